import { Piscina } from 'piscina';
for (let i = 0; i < 300; i++) {
  const p = new Piscina({ filename: '/work/main/dist/workers/group.js', minThreads: 2, maxThreads: 2, idleTimeout: Infinity, concurrentTasksPerWorker: 4 });
  const runs = [];
  for (let k = 0; k < 6; k++) runs.push(p.run({ task: 'nope' }).catch(() => {}));
  if (i % 3 === 0) await Promise.all(runs);
  else await new Promise((r) => setTimeout(r, 10 + (i * 7) % 900));
  await p.destroy();
  if (i % 30 === 0) console.log('round', i);
}
console.log('no crash');
