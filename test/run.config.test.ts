import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalConfig, ConfigError, loadRunConfig, parseRunConfig, type RunConfig } from '../src/run/config.js';
import { configDigest } from '../src/run/run.js';

const FIXTURES = resolve(__dirname, 'fixtures/run');

const made: string[] = [];
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const valid = (): Record<string, unknown> => ({
  model: { type: 'linear-regression', data: 'linear.csv', target: 'y', priorPrecision: 1 },
  sampler: { type: 'sgld', stepSize: 0.001 },
  steps: 100,
  batchSize: 10,
});

/** The ConfigError message for `config` (fails the test if it parses). */
function problemsOf(config: unknown): readonly string[] {
  try {
    parseRunConfig(config, 'run.json', FIXTURES);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message.startsWith('run.json: ')).toBe(true);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

function withChange(path: string, value: unknown): Record<string, unknown> {
  const config = valid();
  const parts = path.split('.');
  let node = config as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
  if (value === undefined) delete node[parts[parts.length - 1]];
  else node[parts[parts.length - 1]] = value;
  return config;
}

describe('run config', () => {
  it('loads the fixture, resolves the data path next to the config file and fills defaults', () => {
    const config = loadRunConfig(join(FIXTURES, 'linear-sgld.json'));
    expect(config.model.data).toBe(join(FIXTURES, 'linear.csv'));
    expect(config.model.intercept).toBe(true);
    expect(config.model.standardize).toBe(false);
    expect(config).toMatchObject({ steps: 2000, burnIn: 500, thin: 2, chains: 2, seed: 7, batchSize: 20, checkpointEvery: 250, initRadius: 0 });
    const minimal = parseRunConfig(valid(), 'run.json', FIXTURES);
    expect(minimal).toMatchObject({ burnIn: 0, thin: 1, chains: 4, seed: 0, checkpointEvery: 1000, batching: 'epochs' });
    expect(minimal.workers).toBeUndefined();
  });

  it.each([
    ['sampler.stepSize', 'abc', 'sampler.stepSize: expected a positive number, got "abc"'],
    ['sampler.stepSize', -0.1, 'sampler.stepSize: expected a positive number, got -0.1'],
    ['sampler.stepSize', undefined, 'sampler.stepSize: required: expected a positive number'],
    ['sampler.temperature', -1, 'sampler.temperature: expected a number ≥ 0, got -1'],
    ['steps', 1.5, 'steps: expected an integer ≥ 1, got 1.5'],
    ['steps', '100', 'steps: expected an integer ≥ 1, got "100"'],
    ['chains', 0, 'chains: expected an integer ≥ 1, got 0'],
    ['seed', -3, 'seed: expected an integer ≥ 0, got -3'],
    ['batchSize', undefined, 'batchSize: required: expected an integer ≥ 1'],
    ['model.type', 'linear', 'model.type: expected one of linear-regression, logistic-regression, softmax-regression, got "linear"'],
    ['model.priorPrecision', 0, 'model.priorPrecision: expected a positive number, got 0'],
    ['model.target', '', 'model.target: expected a non-empty string, got ""'],
    ['model.intercept', 'yes', 'model.intercept: expected true or false, got "yes"'],
    ['model', 'linear.csv', 'model: expected an object, got "linear.csv"'],
    ['batching', 'random', `batching: expected 'epochs' or 'independent', got "random"`],
  ])('%s = %j is refused with its field and value', (path, value, message) => {
    expect(problemsOf(withChange(path, value))).toEqual([message]);
  });

  it('names an unknown sampler and lists the known ones', () => {
    const [problem] = problemsOf(withChange('sampler.type', 'sgldd'));
    expect(problem).toMatch(/^sampler\.type: unknown sampler "sgldd"; known samplers: .*\bsgld\b.*\bnuts\b/);
  });

  it('names unknown fields at the top level, in the model and among the sampler options', () => {
    expect(problemsOf({ ...valid(), stepz: 3 })[0]).toMatch(/^stepz: unknown field \(known fields: description, model, sampler, steps/);
    expect(problemsOf(withChange('model.prior', 1))[0]).toMatch(/^model\.prior: unknown field \(known fields: type, data, target/);
    expect(problemsOf(withChange('sampler.maxTreeDepth', 5))).toEqual([
      "sampler.maxTreeDepth: not an option of sampler 'sgld' (its options: type, stepSize, temperature)",
    ]);
  });

  it('checks options that depend on other fields', () => {
    expect(problemsOf({ ...valid(), burnIn: 100 })).toEqual(['burnIn: must be less than steps (100) so that some draws are kept, got 100']);
    const logistic = withChange('model.type', 'logistic-regression');
    (logistic.model as Record<string, unknown>).noisePrecision = 2;
    expect(problemsOf(logistic)).toEqual(['model.noisePrecision: only linear-regression has a noise precision, not logistic-regression']);
    expect(problemsOf(withChange('model.classes', 3))).toEqual(['model.classes: only softmax-regression has classes, not linear-regression']);
    const nuts = withChange('sampler', { type: 'nuts', targetAcceptance: 1.2 });
    expect(problemsOf(nuts)).toEqual(['sampler.targetAcceptance: expected a number in (0, 1), got 1.2']);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ ...withChange('steps', 0), chains: 'four', extra: true });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/steps: .*\n.*chains: .*"four"[\s\S]*extra: unknown field/);
  });

  it('reports a missing file and invalid JSON with its line and column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgbayes-config-'));
    made.push(dir);
    expect(() => loadRunConfig(join(dir, 'none.json'))).toThrow(`${join(dir, 'none.json')}: file not found`);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{\n  "steps": 10,\n  "chains": ,\n}\n');
    expect(() => loadRunConfig(broken)).toThrow(new RegExp(`^${broken.replace(/[.]/g, '\\.')}: invalid JSON: unexpected "," at line 3, column 13$`));
    writeFileSync(join(dir, 'array.json'), '[1, 2]');
    expect(() => loadRunConfig(join(dir, 'array.json'))).toThrow(/array\.json: \(top level\): expected a JSON object, got \[1,2\]/);
  });

  it('gives the same canonical form and digest whatever the key order or worker count, and a new digest for a new setting', () => {
    const a = parseRunConfig(valid(), 'a.json', FIXTURES);
    const reordered = { batchSize: 10, steps: 100, sampler: { stepSize: 0.001, type: 'sgld' }, model: valid().model, workers: 3 };
    const b = parseRunConfig(reordered, 'b.json', FIXTURES);
    expect(JSON.stringify(canonicalConfig(a))).toBe(JSON.stringify(canonicalConfig(b)));
    expect(configDigest(a)).toBe(configDigest(b));
    const changed: RunConfig = { ...a, sampler: { ...a.sampler, stepSize: 0.002 } };
    expect(configDigest(changed)).not.toBe(configDigest(a));
  });
});
