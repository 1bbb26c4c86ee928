import { portalJourney } from './portal-journey.js';

portalJourney('cy', false);
