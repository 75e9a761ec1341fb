import { describeConformance } from './conformance/suite.js';
import { simulatedTarget } from './conformance/simulated.js';

describeConformance('the simulated connector against the simulator', simulatedTarget);
