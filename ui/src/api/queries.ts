// TanStack Query keys and hooks for the API's read routes.
import { useQuery, QueryClient } from '@tanstack/react-query';
import { api } from './client';
import { ApiError } from './errors';
import type { ListSessionsParams, Template } from './types';

export const keys = {
  health: ['health'] as const,
  summary: ['runtime-summary'] as const,
  templates: ['templates'] as const,
  template: (id: string) => ['templates', id] as const,
  sessions: (params: ListSessionsParams = {}) => ['sessions', params] as const,
  session: (id: string) => ['sessions', 'one', id] as const,
  executions: (sessionId: string, limit: number) => ['executions', sessionId, limit] as const,
  events: (executionId: string) => ['events', executionId] as const,
  metaModules: ['metadata', 'modules'] as const,
  metaLibraries: ['metadata', 'libraries'] as const,
  metaCapabilities: ['metadata', 'capabilities'] as const,
  metaEngines: ['metadata', 'engines'] as const,
};

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 2000,
        // 4xx answers will not change by asking again; network blips may.
        retry: (count, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && count < 2,
        refetchOnWindowFocus: true,
      },
      mutations: { retry: false },
    },
  });
}

export const useTemplates = () => useQuery({ queryKey: keys.templates, queryFn: api.listTemplates });

export const useTemplate = (id: string) =>
  useQuery({ queryKey: keys.template(id), queryFn: () => api.getTemplate(id) });

export const useSessions = (params: ListSessionsParams = {}, refetchInterval: number | false = 5000) =>
  useQuery({ queryKey: keys.sessions(params), queryFn: () => api.listSessions(params), refetchInterval });

export const useModulesCatalog = () =>
  useQuery({ queryKey: keys.metaModules, queryFn: api.metadataModules, staleTime: 60_000 });
export const useLibrariesCatalog = () =>
  useQuery({ queryKey: keys.metaLibraries, queryFn: api.metadataLibraries, staleTime: 10_000 });
export const useCapabilitiesCatalog = () =>
  useQuery({ queryKey: keys.metaCapabilities, queryFn: api.metadataCapabilities, staleTime: 60_000 });

/** The modules a template exposes (tolerates a daemon that names the field `modules`). */
export function templateModules(t: Template): string[] {
  const loose = t as Template & { modules?: string[] };
  return t.exposed_modules ?? loose.modules ?? [];
}

/** Template name by id, from the cached template list. */
export function templateNameMap(templates: Template[] | undefined): Map<string, string> {
  return new Map((templates ?? []).map((t) => [t.id, t.name]));
}
