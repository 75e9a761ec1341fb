import { salesforceTarget } from './conformance/salesforce.js';
import { describeConformance } from './conformance/suite.js';

describeConformance('the Salesforce connector against the Salesforce emulator', salesforceTarget);
