// Small localStorage helpers that never throw (private mode, disabled storage).

export function loadString(key: string, fallback = ''): string {
  try {
    return localStorage.getItem(key) ?? fallback;
  } catch {
    return fallback;
  }
}

export function saveString(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* storage unavailable */
  }
}

export const DRAFT_KEY = 'vm-system.workbench.draft';
export const LAST_SESSION_KEY = 'vm-system.workbench.session';
export const RUNFILE_KEY = 'vm-system.workbench.run-file';
