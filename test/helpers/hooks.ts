import { dropTemplate } from './db.js';

/** Root hooks: the PostgreSQL template database made for this run is dropped when the run ends. */
export const mochaHooks = {
  async afterAll() {
    await dropTemplate();
  },
};
