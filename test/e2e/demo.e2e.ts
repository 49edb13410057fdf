/**
 * End-to-end test of the browser demo in a real browser (`npm run test:e2e`): builds web/ with
 * Vite, serves web/dist on localhost, drives Debian's Chromium with playwright-core, moves sliders,
 * runs SGLD and constant SGD for a few seconds each, and checks that the iterates the page drew are
 * the library's `runChains` output for the same target, settings and seed (computed here in Node).
 * Saves screenshots under test-results/.
 *
 * Why "to rounding" and not bit for bit: the random bits (Threefry, integer arithmetic) are the same
 * on both sides, but Chromium's V8 and Node 20's V8 ship different Math.exp/log/sin/cos/pow (about 10 %
 * of sampled arguments differ in the last bit), so draws agree to ~1e-13 while a wrong key, batch or
 * step would differ by O(ε) ≫ 1e-9 at the first step.
 *
 * Needs Chromium at /usr/bin/chromium (`apt-get install -y chromium`), or CHROMIUM_PATH.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { runChains } from '../../src/run/driver.js';
import { sgld } from '../../src/samplers/sgld.js';
import { constantSgd } from '../../src/samplers/constantSgd.js';
import { exactNoiseCovariance } from '../../src/noise/estimator.js';
import { optimalPreconditioner } from '../../src/noise/optimal.js';
import { demoPosterior, type PosteriorName } from '../../web/posteriors.js';
import type { DemoWindowApi } from '../../web/main.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const dist = join(root, 'web', 'dist');
const results = join(root, 'test-results');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RUN_MILLISECONDS = 3000;
/** |page − library| allowed per coordinate: last-bit libm differences, kept small by the contracting chains. */
const TOLERANCE = 1e-9;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/** A static file server over web/dist on an ephemeral localhost port. */
function serve(directory: string): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(directory, path === '/' ? 'index.html' : path));
    if (!file.startsWith(directory) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
    response.end(readFileSync(file));
  });
  return new Promise((done) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      done({ server, url: `http://127.0.0.1:${port}/` });
    });
  });
}

interface PageRun {
  settings: DemoWindowApi['settings'];
  draws: number[];
  initial: number[];
  constantSgd: ReturnType<DemoWindowApi['constantSgd']>;
  error: string | null;
}

async function readRun(page: Page): Promise<PageRun> {
  return page.evaluate(() => {
    const demo = window.sgbayesDemo;
    return { settings: demo.settings, draws: demo.draws(), initial: demo.initial(), constantSgd: demo.constantSgd(), error: demo.error() };
  });
}

/** Run the page's current method for `ms` milliseconds, then pause it. */
async function runFor(page: Page, ms: number): Promise<void> {
  await page.click('#run');
  await page.waitForFunction(() => window.sgbayesDemo.running);
  await page.waitForTimeout(ms);
  await page.click('#run');
  await page.waitForFunction(() => !window.sgbayesDemo.running);
}

/** Largest |a_i − b_i| and the number of exactly equal entries. */
function compare(page: number[], library: Float64Array): { maxAbs: number; equal: number } {
  if (page.length !== library.length) throw new Error(`the page drew ${page.length / 2} iterates, the library run has ${library.length / 2}`);
  let maxAbs = 0;
  let equal = 0;
  for (let i = 0; i < page.length; i++) {
    const d = Math.abs(page[i] - library[i]);
    if (!(d <= maxAbs)) maxAbs = d;
    if (page[i] === library[i]) equal += 1;
  }
  return { maxAbs, equal };
}

const failures: string[] = [];
function check(condition: boolean, message: string): void {
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${message}`);
  if (!condition) failures.push(message);
}

async function main(): Promise<void> {
  if (!existsSync(executablePath)) {
    console.error(`e2e: no Chromium at ${executablePath}; install it with \`apt-get install -y chromium\` or set CHROMIUM_PATH`);
    process.exit(2);
  }
  await build({ configFile: join(root, 'web', 'vite.config.ts'), logLevel: 'warn' });
  mkdirSync(results, { recursive: true });
  const { server, url } = await serve(dist);
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1120, height: 860 } });
    const pageErrors: string[] = [];
    const foreignRequests: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(url)) foreignRequests.push(request.url());
    });
    await page.goto(url);
    await page.waitForFunction(() => window.sgbayesDemo?.ready === true, undefined, { timeout: 30_000 });

    // 1. SGLD on the logistic posterior, after moving the learning-rate and batch-size sliders by keyboard.
    await page.selectOption('#posterior', 'logistic');
    await page.selectOption('#method', 'sgld');
    const before = await page.evaluate(() => window.sgbayesDemo.settings);
    await page.focus('#lr');
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowLeft');
    await page.focus('#batch');
    for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
    const moved = await page.evaluate(() => window.sgbayesDemo.settings);
    check(Math.abs(Math.log10(moved.learningRate) - (Math.log10(before.learningRate) - 0.4)) < 1e-9, `lr slider moved: ε ${before.learningRate.toPrecision(3)} → ${moved.learningRate.toPrecision(3)}`);
    check(moved.batchSize === before.batchSize + 10, `batch slider moved: S ${before.batchSize} → ${moved.batchSize}`);
    await runFor(page, RUN_MILLISECONDS);
    await page.screenshot({ path: join(results, 'demo-sgld.png') });
    const sgldRun = await readRun(page);
    const steps = sgldRun.draws.length / 2;
    check(steps >= 100 && sgldRun.error === null, `page ran SGLD for ${steps} steps without error (${sgldRun.error ?? 'none'})`);
    const logistic = demoPosterior('logistic').target;
    const expectedSgld = runChains({
      target: logistic,
      sampler: sgld(logistic, { stepSize: sgldRun.settings.learningRate, temperature: sgldRun.settings.temperature }),
      initial: Float64Array.from(sgldRun.initial),
      steps,
      batchSize: sgldRun.settings.batchSize,
      seed: sgldRun.settings.seed,
      keepDraws: true,
    }).chains[0].draws as Float64Array;
    const sgldMatch = compare(sgldRun.draws, expectedSgld);
    check(sgldMatch.maxAbs <= TOLERANCE, `SGLD iterates equal runChains' to rounding: max |Δ| = ${sgldMatch.maxAbs.toExponential(2)} (${sgldMatch.equal}/${sgldRun.draws.length} bit-equal)`);

    // 2. Constant SGD with the optimal preconditioner on the mixture, with the OU ellipse drawn.
    const posteriorName: PosteriorName = 'mixture';
    await page.selectOption('#posterior', posteriorName);
    await page.selectOption('#method', 'constant-sgd');
    await runFor(page, RUN_MILLISECONDS);
    await page.screenshot({ path: join(results, 'demo-constant-sgd.png') });
    const sgdRun = await readRun(page);
    const sgdSteps = sgdRun.draws.length / 2;
    const info = sgdRun.constantSgd;
    check(info !== null && info.stationaryCovariance !== null, 'the page has an OU-predicted stationary covariance for constant SGD');
    check(sgdSteps >= 100 && sgdRun.error === null, `page ran constant SGD for ${sgdSteps} steps without error`);
    if (info) {
      const target = demoPosterior(posteriorName).target;
      const noise = exactNoiseCovariance(target, Float64Array.from(info.mode));
      const optimal = optimalPreconditioner('full', noise, { batchSize: sgdRun.settings.batchSize, dataSize: target.dataSize, relativeFloor: info.relativeFloor });
      const H = optimal.kind === 'full' ? optimal.H : new Float64Array(4);
      let relative = 0;
      for (let i = 0; i < 4; i++) relative = Math.max(relative, Math.abs(info.H[i] - sgdRun.settings.learningRate * H[i]) / Math.abs(H[0]));
      check(relative < 1e-10, `the page's H equals c·H* = c(2S/N)C⁻¹ from the library at the mode (max relative |Δ| = ${relative.toExponential(2)})`);
      const expected = runChains({
        target,
        sampler: constantSgd(target, { preconditioner: { kind: 'full', H: Float64Array.from(info.H) } }),
        initial: Float64Array.from(sgdRun.initial),
        steps: sgdSteps,
        batchSize: sgdRun.settings.batchSize,
        seed: sgdRun.settings.seed,
        keepDraws: true,
      }).chains[0].draws as Float64Array;
      const match = compare(sgdRun.draws, expected);
      check(match.maxAbs <= TOLERANCE, `constant-SGD iterates equal runChains' to rounding: max |Δ| = ${match.maxAbs.toExponential(2)} (${match.equal}/${sgdRun.draws.length} bit-equal)`);
    }

    // 3. Every other method runs in the page without errors (a short burst each).
    for (const method of ['psgld', 'levy', 'vi-meanfield', 'vi-fullrank']) {
      await page.selectOption('#posterior', 'banana');
      await page.selectOption('#method', method);
      await runFor(page, 600);
      const r = await readRun(page);
      check(r.draws.length > 0 && r.error === null && r.draws.every(Number.isFinite), `${method} on the banana: ${r.draws.length / 2} finite iterates`);
      if (method === 'vi-fullrank') await page.screenshot({ path: join(results, 'demo-vi-fullrank.png') });
    }
    check(pageErrors.length === 0, `no page errors (${pageErrors.join(' | ') || 'none'})`);
    check(foreignRequests.length === 0, `no requests beyond localhost (${foreignRequests.join(', ') || 'none'})`);
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`screenshots in ${results}`);
  if (failures.length > 0) {
    console.error(`e2e: ${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log('e2e: all checks passed');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
