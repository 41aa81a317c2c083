export interface Sport {
  name: string;
  id: number;
  /** metres per second when the sport has a distance, else null */
  speed: number | null;
  outdoor: boolean;
  /** strain gained per hour, roughly */
  intensity: number;
}

// sport_id is deprecated by WHOOP but still sent; the names are what clients should use.
export const SPORTS: readonly Sport[] = [
  { name: 'running', id: 0, speed: 2.9, outdoor: true, intensity: 0.9 },
  { name: 'cycling', id: 1, speed: 7.5, outdoor: true, intensity: 0.7 },
  { name: 'rowing', id: 18, speed: 3.6, outdoor: false, intensity: 0.8 },
  { name: 'swimming', id: 33, speed: 0.9, outdoor: false, intensity: 0.75 },
  { name: 'yoga', id: 44, speed: null, outdoor: false, intensity: 0.25 },
  { name: 'weightlifting_msk', id: 45, speed: null, outdoor: false, intensity: 0.5 },
  { name: 'functional_fitness', id: 48, speed: null, outdoor: false, intensity: 0.8 },
  { name: 'hiking', id: 52, speed: 1.3, outdoor: true, intensity: 0.45 },
  { name: 'walking', id: 63, speed: 1.4, outdoor: true, intensity: 0.3 },
  { name: 'hiit', id: 96, speed: null, outdoor: false, intensity: 1.1 },
  { name: 'tennis', id: 34, speed: null, outdoor: true, intensity: 0.7 },
  { name: 'pilates', id: 233, speed: null, outdoor: false, intensity: 0.35 },
];
