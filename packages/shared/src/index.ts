export * from './env';
export * from './errors';
