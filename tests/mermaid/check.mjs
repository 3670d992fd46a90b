// Read Mermaid text from stdin, parse it with the real mermaid parser and print what it
// understood (diagram type, states with their labels, transitions with their labels) as
// JSON; a parse error goes to stderr with exit code 1.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");

let text = "";
for await (const chunk of process.stdin) text += chunk;
try {
  const parsed = await mermaid.parse(text);
  const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
  const db = diagram.db;
  const states = [...db.getStates().entries()].map(([id, s]) => ({ id, labels: s.descriptions }));
  const transitions = db.getRelations().map((r) => ({ from: r.id1, to: r.id2, label: r.relationTitle }));
  process.stdout.write(JSON.stringify({ type: parsed.diagramType, states, transitions }) + "\n");
} catch (error) {
  process.stderr.write(String((error && error.message) || error) + "\n");
  process.exit(1);
}
