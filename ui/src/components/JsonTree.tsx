import { useState } from 'react';
import type { JsonValue } from '../api/types';

const PAGE = 100;

interface NodeProps {
  name?: string;
  value: JsonValue;
  depth: number;
  expandDepth: number;
}

function isContainer(v: JsonValue): v is JsonValue[] | { [k: string]: JsonValue } {
  return typeof v === 'object' && v !== null;
}

function Primitive({ value }: { value: JsonValue }) {
  if (value === null) return <span className="json-null">null</span>;
  switch (typeof value) {
    case 'string':
      return <span className="json-string">{JSON.stringify(value)}</span>;
    case 'number':
      return <span className="json-number">{String(value)}</span>;
    case 'boolean':
      return <span className="json-boolean">{String(value)}</span>;
    default:
      return <span>{String(value)}</span>;
  }
}

function Key({ name }: { name?: string }) {
  if (name === undefined) return null;
  return (
    <>
      <span className="json-key">{name}</span>
      <span className="json-punct">: </span>
    </>
  );
}

function summary(value: JsonValue[] | { [k: string]: JsonValue }): string {
  if (Array.isArray(value)) return `Array(${value.length})`;
  const n = Object.keys(value).length;
  return `{${n} ${n === 1 ? 'key' : 'keys'}}`;
}

function JsonNode({ name, value, depth, expandDepth }: NodeProps) {
  const [open, setOpen] = useState(depth < expandDepth);
  const [shown, setShown] = useState(PAGE);
  if (!isContainer(value)) {
    return (
      <li className="json-row" data-testid="json-leaf">
        <Key name={name} />
        <Primitive value={value} />
      </li>
    );
  }
  const entries: [string, JsonValue][] = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.entries(value);
  const empty = entries.length === 0;
  return (
    <li className="json-row">
      {empty ? (
        <span className="json-empty">
          <Key name={name} />
          <span className="json-punct">{Array.isArray(value) ? '[]' : '{}'}</span>
        </span>
      ) : (
        <button
          type="button"
          className="json-toggle"
          aria-expanded={open}
          data-testid="json-toggle"
          onClick={() => setOpen((o) => !o)}
        >
          <span className="json-caret" aria-hidden="true">
            {open ? '▾' : '▸'}
          </span>
          <Key name={name} />
          <span className="json-summary">{summary(value)}</span>
        </button>
      )}
      {open && !empty && (
        <ul className="json-children" role="group">
          {entries.slice(0, shown).map(([k, v]) => (
            <JsonNode key={k} name={k} value={v} depth={depth + 1} expandDepth={expandDepth} />
          ))}
          {entries.length > shown && (
            <li className="json-row">
              <button type="button" className="link-button" onClick={() => setShown((s) => s + PAGE)}>
                Show {Math.min(PAGE, entries.length - shown)} more of {entries.length - shown} remaining
              </button>
            </li>
          )}
        </ul>
      )}
    </li>
  );
}

export interface JsonTreeProps {
  value: JsonValue;
  /** Levels expanded initially (default 2: the root and its children). */
  expandDepth?: number;
  label?: string;
}

/** A collapsible JSON tree; keyboard-operable (each container is a button with aria-expanded). */
export function JsonTree({ value, expandDepth = 2, label = 'JSON value' }: JsonTreeProps) {
  return (
    <ul className="json-tree" data-testid="json-tree" aria-label={label}>
      <JsonNode value={value} depth={0} expandDepth={expandDepth} />
    </ul>
  );
}
