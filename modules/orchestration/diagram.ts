import type { AslDefinition, AslState, Json } from "./definition";

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly label?: string;
}

const isObject = (v: Json | undefined): v is { [key: string]: Json } =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);

/** Every transition out of a state: Next, End, Choice rules and Default, Catch targets (dotted). */
function edgesOf(name: string, state: AslState, prefix: string): Edge[] {
  const id = (s: string) => `${prefix}${s}`;
  const edges: Edge[] = [];
  if (typeof state.Next === "string") edges.push({ from: id(name), to: id(state.Next) });
  for (const rule of list(state.Choices)) {
    if (isObject(rule) && typeof rule.Next === "string") {
      edges.push({ from: id(name), to: id(rule.Next), label: choiceLabel(rule) });
    }
  }
  if (typeof state.Default === "string")
    edges.push({ from: id(name), to: id(state.Default), label: "otherwise" });
  for (const c of list(state.Catch)) {
    if (isObject(c) && typeof c.Next === "string")
      edges.push({ from: id(name), to: id(c.Next), label: "catch" });
  }
  return edges;
}

/** A short, quote-free label of a Choice rule (its variable's last segment and the tested value). */
function choiceLabel(rule: { [key: string]: Json }): string {
  const test = (r: { [key: string]: Json }): string => {
    if (isObject(r.Not)) return `not ${test(r.Not)}`;
    if (Array.isArray(r.And)) return r.And.filter(isObject).map(test).join(" and ");
    if (Array.isArray(r.Or)) return `(${r.Or.filter(isObject).map(test).join(" or ")})`;
    const variable = String(r.Variable ?? "")
      .split(".")
      .pop();
    const [op, value] = Object.entries(r).find(([k]) => k !== "Variable" && k !== "Next") ?? ["", ""];
    return op === "IsPresent"
      ? `${variable} present`
      : `${variable} ${op.replace(/^(String|Numeric)/, "")} ${value}`;
  };
  // Mermaid reads quotes, pipes and brackets in an edge label as syntax.
  return test(rule).replace(/["|()[\]{}]/g, "");
}

function shape(id: string, name: string, state: AslState): string {
  switch (state.Type) {
    case "Choice":
      return `${id}{${name}}`;
    case "Succeed":
    case "Fail":
      return `${id}([${name}])`;
    case "Wait":
      return `${id}[/${name}/]`;
    default:
      return `${id}[${name}]`;
  }
}

function render(
  states: Record<string, AslState>,
  startAt: string,
  prefix: string,
  indent: string,
  lines: string[],
): void {
  for (const [name, state] of Object.entries(states)) {
    const id = `${prefix}${name}`;
    const processor = state.ItemProcessor ?? state.Iterator;
    if (state.Type === "Map" && isObject(processor) && isObject(processor.States)) {
      lines.push(`${indent}subgraph ${id}[${name}: Map, MaxConcurrency ${state.MaxConcurrency}]`);
      const inner = processor.States as Record<string, AslState>;
      render(inner, String(processor.StartAt), `${id}_`, `${indent}  `, lines);
      lines.push(`${indent}end`);
    } else {
      lines.push(`${indent}${shape(id, name, state)}`);
    }
    for (const e of edgesOf(name, state, prefix)) {
      const arrow = e.label === "catch" ? "-.->" : "-->";
      lines.push(`${indent}${e.from} ${arrow}${e.label ? `|${e.label}|` : ""} ${e.to}`);
    }
  }
  lines.push(`${indent}${prefix || "start"}_start(( )) --> ${prefix}${startAt}`);
}

/** The state machine as a Mermaid flowchart (docs/orchestration.md embeds it; a test keeps it current). */
export function mermaidOf(definition: AslDefinition): string {
  const lines = ["flowchart TD"];
  render(definition.States, definition.StartAt, "", "  ", lines);
  return lines.join("\n");
}
