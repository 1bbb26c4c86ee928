import { portalJourney } from './portal-journey.js';

portalJourney('en', true);
