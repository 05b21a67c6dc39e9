import { describe, expect, it } from 'vitest';
import { matchPath } from './router';
import { formatDuration, formatUptime, isAbsolutePath, plural, relativeTime, truncate } from './format';
import { outcomeText } from './outcome';
import { libraryMatches } from '../pages/TemplateDetailPage';
import { parseJsonObject } from '../pages/WorkbenchPage';

describe('matchPath', () => {
  it('matches static and parameter segments', () => {
    expect(matchPath('/templates', '/templates')).toEqual({});
    expect(matchPath('/templates/:id', '/templates/abc')).toEqual({ id: 'abc' });
    expect(matchPath('/templates/:id', '/templates/a%40b')).toEqual({ id: 'a@b' });
    expect(matchPath('/templates/:id', '/templates')).toBeNull();
    expect(matchPath('/templates/:id', '/sessions/abc')).toBeNull();
  });
});

describe('format', () => {
  it('formats relative times', () => {
    const now = Date.parse('2026-11-22T10:00:00.000Z');
    expect(relativeTime('2026-11-22T10:00:00.000Z', now)).toBe('just now');
    expect(relativeTime('2026-11-22T09:59:30.000Z', now)).toBe('30 s ago');
    expect(relativeTime('2026-11-22T09:55:00.000Z', now)).toBe('5 min ago');
    expect(relativeTime('2026-11-22T07:00:00.000Z', now)).toBe('3 h ago');
    expect(relativeTime(null, now)).toBe('—');
  });

  it('formats durations and uptimes', () => {
    expect(formatDuration(0.41)).toBe('0.41 ms');
    expect(formatDuration(8.77)).toBe('8.8 ms');
    expect(formatDuration(250)).toBe('250 ms');
    expect(formatDuration(2488.4)).toBe('2.49 s');
    expect(formatDuration(undefined)).toBe('—');
    expect(formatUptime(59)).toBe('59 s');
    expect(formatUptime(3725)).toBe('1 h 2 min');
    expect(formatUptime(90000)).toBe('1 d 1 h 0 min');
  });

  it('checks absolute worktree paths', () => {
    expect(isAbsolutePath('/srv/project')).toBe(true);
    expect(isAbsolutePath('C:\\work')).toBe(true);
    expect(isAbsolutePath('relative/dir')).toBe(false);
    expect(isAbsolutePath('~/project')).toBe(false);
  });

  it('truncates to one line', () => {
    expect(truncate('a\n  b', 10)).toBe('a b');
    expect(truncate('abcdefghij', 5)).toBe('abcd…');
  });
});

describe('libraryMatches', () => {
  const lodash = { name: 'lodash', version: '4.17.21' };
  it('accepts the three spellings of a library', () => {
    expect(libraryMatches('lodash', lodash)).toBe(true);
    expect(libraryMatches('lodash@4.17.21', lodash)).toBe(true);
    expect(libraryMatches('lodash-4.17.21', lodash)).toBe(true);
    expect(libraryMatches('lodash-es', lodash)).toBe(false);
    expect(libraryMatches('ramda', lodash)).toBe(false);
  });
});

describe('parseJsonObject', () => {
  it('accepts objects and explains everything else', () => {
    expect(parseJsonObject('', 'Args')).toEqual({});
    expect(parseJsonObject('{"n": 1}', 'Args')).toEqual({ n: 1 });
    expect(parseJsonObject('[1]', 'Args')).toBe('Args must be a JSON object.');
    expect(parseJsonObject('{n: 1}', 'Args')).toMatch(/^Args is not valid JSON/);
  });
});

describe('outcomeText', () => {
  it('states the limit from the session settings', () => {
    expect(outcomeText('WALL_TIME_EXCEEDED', 'wall-time limit exceeded', { wall_ms: 1000 })).toBe('Wall-time limit of 1000 ms exceeded');
    expect(outcomeText('CPU_TIME_EXCEEDED', 'CPU-time limit exceeded', { cpu_ms: 50 })).toBe('CPU-time limit of 50 ms exceeded');
  });
  it('keeps a daemon message that already names its numbers', () => {
    expect(outcomeText('MEMORY_LIMIT_EXCEEDED', 'memory limit exceeded: V8 heap over 16 MB', { mem_mb: 16 })).toBe(
      'Memory limit exceeded: V8 heap over 16 MB',
    );
  });
  it('reads naturally without limits and for a cancel', () => {
    expect(outcomeText('WALL_TIME_EXCEEDED', 'wall-time limit exceeded')).toBe('Wall-time limit exceeded');
    expect(outcomeText('CANCELLED', 'execution cancelled')).toBe('Cancelled');
    expect(outcomeText('SOMETHING_NEW', 'it stopped')).toBe('It stopped');
  });
});

describe('plural', () => {
  it('says 1 line and 2 lines', () => {
    expect(plural(1, 'line')).toBe('1 line');
    expect(plural(0, 'line')).toBe('0 lines');
    expect(plural(2, 'event')).toBe('2 events');
  });
});
