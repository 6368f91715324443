export * from './env';
export * from './errors';
export * from './constants';
export * from './generation';
export * from './plans';
export * from './prices';
export * from './queues';
