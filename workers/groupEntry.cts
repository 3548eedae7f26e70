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
// A Promise of the task function (piscina's documented form for a worker that initialises): the
// thread loads the module graph (ts-mls and ours, ~400 ms here) as soon as it starts and is ready
// for tasks only then. With the function exported directly and group.js imported on the first
// task, the first commit, join or decryption after an engine opened waited for the load: piscina
// parks an idle thread in Atomics.wait, so an import started earlier could not progress.
// A failed load fails every task with its error, as before: a rejected Promise here would end
// the thread at its start, and piscina would start another one, again and again.
export = import("./group.js").then(
  (m) => m.default,
  (error: unknown) => () => {
    throw error;
  },
);
