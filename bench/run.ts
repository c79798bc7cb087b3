/**
 * npm run bench [-- --short] [-- --clients N]: every benchmark (lifecycle, shipped diagram, change, timers, workers), one after the other,
 * each printing its figures next to a baseline measured in the same run.
 */
await import('./lifecycle.js');
await import('./shipped.js');
await import('./change.js');
await import('./timers.js');
await import('./workers.js');
