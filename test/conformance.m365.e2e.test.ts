import { m365Target } from './conformance/m365.js';
import { describeConformance } from './conformance/suite.js';

describeConformance('the Microsoft 365 connector against the Microsoft 365 emulator', m365Target);
