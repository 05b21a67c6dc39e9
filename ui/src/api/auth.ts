// The daemon's bearer token, kept in sessionStorage, plus a tiny event hub so that a 401
// anywhere in the app can open the token prompt.

const STORAGE_KEY = 'vm-system.auth-token';

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();
const tokenListeners = new Set<Listener>();

function storage(): Storage | undefined {
  try {
    return typeof sessionStorage === 'undefined' ? undefined : sessionStorage;
  } catch {
    return undefined;
  }
}

export function getToken(): string | null {
  const value = storage()?.getItem(STORAGE_KEY);
  return value ? value : null;
}

export function setToken(token: string | null): void {
  const s = storage();
  if (s) {
    if (token) s.setItem(STORAGE_KEY, token);
    else s.removeItem(STORAGE_KEY);
  }
  tokenListeners.forEach((l) => l());
}

export function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export function notifyUnauthorized(): void {
  unauthorizedListeners.forEach((l) => l());
}

export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function onTokenChange(listener: Listener): () => void {
  tokenListeners.add(listener);
  return () => tokenListeners.delete(listener);
}
