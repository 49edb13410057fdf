/**
 * The browser demo's page: controls, the animation loop and the canvas drawing. The computation is
 * in ./methods.ts and ./posteriors.ts (DOM-free); this file only wires the page to them and exposes
 * the run on `window.sgbayesDemo` for the end-to-end test.
 */
import { demoPosterior, highestDensityLevels, logDensityGrid, POSTERIOR_NAMES, type DemoPosterior, type PosteriorName } from './posteriors.js';
import { DemoRun, METHODS, methodDescription, modeGeometry, variationalGaussian, type DemoSettings, type MethodName, type ModeGeometry } from './methods.js';
import { contourSegments } from './contours.js';
import { ellipseRadius, gaussianEllipse } from '../src/report/geometry.js';

/** What the page exposes for tests and curious users. */
export interface DemoWindowApi {
  /** True once the first posterior is drawn. */
  ready: boolean;
  running: boolean;
  posterior: PosteriorName;
  settings: DemoSettings;
  /** Iterates so far, flat [x, y, …] (a copy). */
  draws(): number[];
  steps(): number;
  initial(): number[];
  /** Constant SGD only: the H in force, the mode and the OU-predicted covariance. */
  constantSgd(): { H: number[]; mode: number[]; stationaryCovariance: number[] | null; relativeFloor: number } | null;
  error(): string | null;
}

declare global {
  interface Window {
    sgbayesDemo: DemoWindowApi;
  }
}

const GRID = 140;
const MASSES = [0.5, 0.9, 0.99];
const MAX_DOTS = 20000;
const TRAIL = 60;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`demo page: element #${id} is missing`);
  return found as T;
}

const posteriorSelect = element<HTMLSelectElement>('posterior');
const methodSelect = element<HTMLSelectElement>('method');
const lrInput = element<HTMLInputElement>('lr');
const batchInput = element<HTMLInputElement>('batch');
const alphaInput = element<HTMLInputElement>('alpha');
const temperatureInput = element<HTMLInputElement>('temperature');
const speedInput = element<HTMLInputElement>('speed');
const seedInput = element<HTMLInputElement>('seed');
const runButton = element<HTMLButtonElement>('run');
const resetButton = element<HTMLButtonElement>('reset');
const canvas = element<HTMLCanvasElement>('plot');
const status = element<HTMLDivElement>('status');
const note = element<HTMLDivElement>('note');
const context = canvas.getContext('2d') as CanvasRenderingContext2D;

for (const name of POSTERIOR_NAMES) posteriorSelect.add(new Option(demoPosterior(name).label, name));
for (const m of METHODS) methodSelect.add(new Option(m.label, m.name));
lrInput.value = String(methodDescription('constant-sgd').defaultLogRate);
batchInput.value = '10';
alphaInput.value = '1.8';
temperatureInput.value = '1';

interface Background {
  posterior: DemoPosterior;
  image: HTMLCanvasElement;
  geometry: ModeGeometry;
}

let background: Background | null = null;
let run: DemoRun | null = null;
let running = false;

function readSettings(): DemoSettings {
  return {
    method: methodSelect.value as MethodName,
    learningRate: 10 ** Number(lrInput.value),
    batchSize: Number(batchInput.value),
    alpha: Number(alphaInput.value),
    temperature: Number(temperatureInput.value),
    seed: Math.max(0, Math.floor(Number(seedInput.value) || 0)),
  };
}

/** Canvas pixel of a parameter point. */
function toPixel(posterior: DemoPosterior, x: number, y: number): [number, number] {
  const { xMin, xMax, yMin, yMax } = posterior.box;
  return [((x - xMin) / (xMax - xMin)) * canvas.width, (1 - (y - yMin) / (yMax - yMin)) * canvas.height];
}

/** The exact posterior as a shaded image with HPD contours and axes, drawn once per posterior. */
function drawBackground(posterior: DemoPosterior): HTMLCanvasElement {
  const image = document.createElement('canvas');
  image.width = canvas.width;
  image.height = canvas.height;
  const ctx = image.getContext('2d') as CanvasRenderingContext2D;
  const { values, max } = logDensityGrid(posterior, GRID, GRID);
  const shade = ctx.createImageData(GRID, GRID);
  for (let j = 0; j < GRID; j++) {
    for (let i = 0; i < GRID; i++) {
      const w = Math.exp(values[j * GRID + i] - max);
      const row = GRID - 1 - j;
      const at = 4 * (row * GRID + i);
      shade.data[at] = 255 - 120 * w;
      shade.data[at + 1] = 255 - 70 * w;
      shade.data[at + 2] = 255 - 20 * w;
      shade.data[at + 3] = 255;
    }
  }
  const small = document.createElement('canvas');
  small.width = GRID;
  small.height = GRID;
  (small.getContext('2d') as CanvasRenderingContext2D).putImageData(shade, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, image.width, image.height);
  const levels = highestDensityLevels(values, max, MASSES);
  const { xMin, xMax, yMin, yMax } = posterior.box;
  ctx.strokeStyle = '#2f5d8a';
  levels.forEach((level, k) => {
    ctx.lineWidth = 2 - 0.5 * k;
    const segments = contourSegments(values, GRID, GRID, level);
    ctx.beginPath();
    for (let s = 0; s < segments.length; s += 4) {
      const [x0, y0] = toPixel(posterior, xMin + ((xMax - xMin) * segments[s]) / (GRID - 1), yMin + ((yMax - yMin) * segments[s + 1]) / (GRID - 1));
      const [x1, y1] = toPixel(posterior, xMin + ((xMax - xMin) * segments[s + 2]) / (GRID - 1), yMin + ((yMax - yMin) * segments[s + 3]) / (GRID - 1));
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
    }
    ctx.stroke();
  });
  drawAxes(ctx, posterior);
  return image;
}

function niceTicks(lo: number, hi: number): number[] {
  const step = 10 ** Math.floor(Math.log10((hi - lo) / 4));
  const unit = (hi - lo) / step > 20 ? 5 * step : (hi - lo) / step > 8 ? 2 * step : step;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / unit) * unit; v <= hi + 1e-12; v += unit) ticks.push(Number(v.toFixed(6)));
  return ticks;
}

function drawAxes(ctx: CanvasRenderingContext2D, posterior: DemoPosterior): void {
  const { xMin, xMax, yMin, yMax } = posterior.box;
  ctx.fillStyle = '#3a4350';
  ctx.strokeStyle = 'rgba(0,0,0,0.35)';
  ctx.lineWidth = 1;
  ctx.font = '11px system-ui, sans-serif';
  for (const t of niceTicks(xMin, xMax)) {
    const [px] = toPixel(posterior, t, yMin);
    // Leave the corners to the other axis's labels.
    if (px < 30 || px > canvas.width - 60) continue;
    ctx.beginPath();
    ctx.moveTo(px, canvas.height);
    ctx.lineTo(px, canvas.height - 6);
    ctx.stroke();
    ctx.fillText(String(t), px + 2, canvas.height - 8);
  }
  for (const t of niceTicks(yMin, yMax)) {
    const [, py] = toPixel(posterior, xMin, t);
    if (py < 30 || py > canvas.height - 30) continue;
    ctx.beginPath();
    ctx.moveTo(0, py);
    ctx.lineTo(6, py);
    ctx.stroke();
    ctx.fillText(String(t), 8, py - 2);
  }
  ctx.font = '13px system-ui, sans-serif';
  ctx.fillText('θ₁ →', canvas.width - 44, canvas.height - 22);
  ctx.fillText('θ₂ ↑', 8, 16);
}

function strokeEllipse(posterior: DemoPosterior, mean: ArrayLike<number>, cov: ArrayLike<number>, colour: string, dashed: boolean): void {
  for (const probability of [0.3935, 0.8647]) {
    // χ²₂ masses of the 1σ and 2σ ellipses.
    const points = gaussianEllipse(mean, cov, ellipseRadius(probability), 96);
    context.beginPath();
    for (let k = 0; k < points.length; k += 2) {
      const [px, py] = toPixel(posterior, points[k], points[k + 1]);
      if (k === 0) context.moveTo(px, py);
      else context.lineTo(px, py);
    }
    context.strokeStyle = colour;
    context.lineWidth = 2;
    context.setLineDash(dashed ? [6, 4] : []);
    context.stroke();
  }
  context.setLineDash([]);
}

function drawDots(posterior: DemoPosterior, flat: number[], colour: string, size: number): void {
  context.fillStyle = colour;
  const start = Math.max(0, flat.length / 2 - MAX_DOTS);
  for (let i = start; i < flat.length / 2; i++) {
    const [px, py] = toPixel(posterior, flat[2 * i], flat[2 * i + 1]);
    context.fillRect(px - size / 2, py - size / 2, size, size);
  }
}

function draw(): void {
  if (!background || !run) return;
  const posterior = background.posterior;
  context.drawImage(background.image, 0, 0);
  const flat = run.draws;
  const vi = variationalGaussian(run.state);
  if (vi) drawDots(posterior, run.variationalDraws, 'rgba(42,157,75,0.25)', 2.5);
  drawDots(posterior, flat, 'rgba(224,123,0,0.35)', 2.5);
  const sgd = run.built.constantSgd;
  if (sgd?.stationaryCovariance) strokeEllipse(posterior, sgd.mode, sgd.stationaryCovariance, '#c0143c', true);
  if (vi) strokeEllipse(posterior, vi.mean, vi.cov, '#2a9d4b', false);
  const n = flat.length / 2;
  context.beginPath();
  const [sx, sy] = toPixel(posterior, posterior.initial[0], posterior.initial[1]);
  context.moveTo(sx, sy);
  for (let i = Math.max(0, n - TRAIL); i < n; i++) {
    const [px, py] = toPixel(posterior, flat[2 * i], flat[2 * i + 1]);
    if (i === Math.max(0, n - TRAIL) && n > TRAIL) context.moveTo(px, py);
    else context.lineTo(px, py);
  }
  context.strokeStyle = 'rgba(120,60,0,0.7)';
  context.lineWidth = 1;
  context.stroke();
  const [cx, cy] = n > 0 ? toPixel(posterior, flat[2 * n - 2], flat[2 * n - 1]) : [sx, sy];
  context.beginPath();
  context.arc(cx, cy, 5, 0, 2 * Math.PI);
  context.fillStyle = '#e07b00';
  context.fill();
  context.strokeStyle = '#000';
  context.stroke();
  const m = methodDescription(run.settings.method);
  status.textContent = `${running ? 'running' : 'paused'} · step ${run.steps} · ${m.label}` + (run.error ? ` · stopped: ${run.error}` : '');
}

function describe(): void {
  const m = methodDescription(methodSelect.value as MethodName);
  element('lr-value').textContent = (10 ** Number(lrInput.value)).toPrecision(3);
  element('lr-meaning').textContent = m.rateMeaning;
  element('batch-value').textContent = batchInput.value;
  element('alpha-value').textContent = Number(alphaInput.value).toFixed(2);
  element('temperature-value').textContent = Number(temperatureInput.value).toFixed(2);
  element('speed-value').textContent = speedInput.value;
  element('alpha-label').classList.toggle('disabled', !m.uses.alpha);
  alphaInput.classList.toggle('disabled', !m.uses.alpha);
  element('temperature-label').classList.toggle('disabled', !m.uses.temperature);
  temperatureInput.classList.toggle('disabled', !m.uses.temperature);
  element('legend-ou').style.display = m.name === 'constant-sgd' ? '' : 'none';
  element('legend-q').style.display = m.name.startsWith('vi-') ? '' : 'none';
}

/** Rebuild the run from the controls (a new posterior also redraws the background). */
function restart(): void {
  describe();
  const name = posteriorSelect.value as PosteriorName;
  const posterior = demoPosterior(name);
  if (!background || background.posterior !== posterior) {
    batchInput.max = String(posterior.target.dataSize);
    background = { posterior, image: drawBackground(posterior), geometry: modeGeometry(posterior) };
    element('posterior-description').textContent = posterior.description;
  }
  const settings = readSettings();
  try {
    run = new DemoRun(posterior, settings, background.geometry);
  } catch (error) {
    run = null;
    status.textContent = `cannot run: ${(error as Error).message}`;
    return;
  }
  const m = methodDescription(settings.method);
  const notes: string[] = [];
  if (!m.fromLibrary) notes.push('This Gaussian VI is the demo\'s own (src/vi has only the Bayesian-network families); its iterates are the variational mean.');
  const sgd = run.built.constantSgd;
  if (sgd) {
    notes.push(`H* = (2S/N)C⁻¹ from the exact gradient-noise covariance C at the mode (eigenvalues floored at ${sgd.relativeFloor}·λmax); the dashed ellipses are the OU prediction of the iterates' stationary covariance.`);
    if (sgd.unstable) notes.push(`No OU prediction: ${sgd.unstable}`);
  }
  note.textContent = notes.join(' ');
  draw();
}

function frame(): void {
  if (running && run) {
    run.advance(Number(speedInput.value));
    if (run.error) setRunning(false);
    draw();
  }
  requestAnimationFrame(frame);
}

function setRunning(on: boolean): void {
  running = on;
  runButton.textContent = on ? 'Pause' : 'Run';
  window.sgbayesDemo.running = on;
  draw();
}

methodSelect.addEventListener('change', () => {
  lrInput.value = String(methodDescription(methodSelect.value as MethodName).defaultLogRate);
  restart();
});
for (const input of [posteriorSelect, lrInput, batchInput, alphaInput, temperatureInput, seedInput]) input.addEventListener('input', restart);
posteriorSelect.addEventListener('change', restart);
speedInput.addEventListener('input', describe);
runButton.addEventListener('click', () => setRunning(!running));
resetButton.addEventListener('click', restart);

window.sgbayesDemo = {
  ready: false,
  running: false,
  get posterior() {
    return posteriorSelect.value as PosteriorName;
  },
  get settings() {
    return run ? { ...run.settings } : readSettings();
  },
  draws: () => (run ? run.draws.slice() : []),
  steps: () => run?.steps ?? 0,
  initial: () => Array.from(demoPosterior(posteriorSelect.value as PosteriorName).initial),
  constantSgd: () => {
    const sgd = run?.built.constantSgd;
    if (!sgd || sgd.preconditioner.kind !== 'full') return null;
    return {
      H: Array.from(sgd.preconditioner.H),
      mode: Array.from(sgd.mode),
      stationaryCovariance: sgd.stationaryCovariance ? Array.from(sgd.stationaryCovariance) : null,
      relativeFloor: sgd.relativeFloor,
    };
  },
  error: () => run?.error ?? null,
};

restart();
window.sgbayesDemo.ready = true;
requestAnimationFrame(frame);
