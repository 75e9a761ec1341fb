import { googleTarget } from './conformance/google.js';
import { describeConformance } from './conformance/suite.js';

describeConformance('the Google Workspace connector against the Google Workspace emulator', googleTarget);
