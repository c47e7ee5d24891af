import { raceSuite } from './rails-race-suite.ts';

await raceSuite(true);
