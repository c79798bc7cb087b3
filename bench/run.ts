/**
 * npm run bench [-- --short] [-- --clients N]: every benchmark, one after the other,
 * each printing its figures next to a baseline measured in the same run.
 */
await import('./lifecycle.js');
await import('./change.js');
