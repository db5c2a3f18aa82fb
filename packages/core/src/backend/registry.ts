import { BackendError } from "../errors.js";
import type { Backend } from "./backend.js";

type Factory = () => Backend;

const factories = new Map<string, Factory>();
const instances = new Map<string, Backend>();
let current = "cpu";

/** Registers a backend by name (backend packages call this when imported). */
export function registerBackend(name: string, factory: Factory): void {
  factories.set(name, factory);
  instances.delete(name);
}

/** The names of the registered backends. */
export function backendNames(): string[] {
  return [...factories.keys()];
}

/** The backend of that name if it has been created (never creates one). */
export function existingBackend(name: string): Backend | undefined {
  return instances.get(name);
}

/** The backend of that name (default: the current one), created on first use. */
export function getBackend(name: string = current): Backend {
  let b = instances.get(name);
  if (b) return b;
  const f = factories.get(name);
  if (!f) {
    throw new BackendError(
      `getBackend: no backend named "${name}"; registered: ${backendNames().join(", ")}` +
        (name === "webgpu" ? ` (import "@webjax/webgpu" to register it)` : ""),
    );
  }
  b = f();
  instances.set(name, b);
  return b;
}

/** Makes `name` the backend that creation functions and JS numbers use. */
export function setBackend(name: string): void {
  getBackend(name);
  current = name;
}

/** The name of the current default backend. */
export function currentBackend(): string {
  return current;
}

/** Forgets a backend instance so the next `getBackend` creates it anew (re-init, tests). */
export function resetBackend(name: string): void {
  instances.delete(name);
}
