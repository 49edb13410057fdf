/**
 * Parsers of CLI option values shared by every command: each names the flag and the bad value in
 * commander's InvalidArgumentError, so `sgbayes` prints e.g. "--steps must be a positive integer, got 'x'".
 */
import { InvalidArgumentError } from 'commander';

/** An option parser for integers ≥ 1. */
export function positiveInteger(name: string): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got '${text}'`);
    return value;
  };
}

/** An option parser for integers ≥ 0 (seeds, counts that may be zero). */
export function nonNegativeInteger(name: string): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer, got '${text}'`);
    return value;
  };
}

/** An option parser for finite numbers > 0. */
export function positiveNumber(name: string): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got '${text}'`);
    return value;
  };
}

/** An option parser for numbers in [0, 1). */
export function fraction(name: string): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0 || value >= 1) throw new InvalidArgumentError(`${name} must be in [0, 1), got '${text}'`);
    return value;
  };
}

/** The `--seed <n>` parser. */
export const parseSeed = nonNegativeInteger('--seed');
