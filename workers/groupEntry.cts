/**
 * The file piscina loads in each pool thread: a CommonJS shell that loads the ES module entry
 * (group.js) with one `import()`, so no pool thread ever `require()`s an ES module. Piscina
 * loads a worker file with `require()` first, and on Node 20 `require()` of our module graph
 * (ts-mls has import cycles) can abort the whole process with a V8 fatal error
 * ("v8::Module::IsGraphAsync must be used on an instantiated module"), depending on the import
 * order inside the graph; `import()` links the graph before it evaluates it.
 *
 * @example
 * ```ts
 * new Piscina({ filename: new URL("../../workers/groupEntry.cjs", import.meta.url).href })
 * ```
 *
 * @module
 */
const load = () => import("./group.js").then((m) => m.default);
type Task = Parameters<Awaited<ReturnType<typeof load>>>[0];
let handler: ReturnType<typeof load> | undefined;

/** The piscina task function: loads group.js once, then hands it every task. @example `await pool.run(task)` */
function run(task: Task): Promise<unknown> {
  handler ??= load();
  return handler.then((h) => h(task));
}

export = run;
