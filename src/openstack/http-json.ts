import { OpenStackApiError } from './api-error.js';

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface JsonRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs?: number;
  /** Names the API in errors ("keystone", "masakari"). */
  service: string;
}

/** One JSON request; a status outside 2xx or no answer becomes an OpenStackApiError. */
export async function requestJson(url: string, request: JsonRequest): Promise<JsonResponse> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: request.method ?? 'GET',
      headers: { accept: 'application/json', ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}), ...request.headers },
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      signal: AbortSignal.timeout(request.timeoutMs ?? 30_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new OpenStackApiError(`${request.service}: ${request.method ?? 'GET'} ${url} got no answer (${cause})`, request.service, undefined, '');
  }
  const text = await response.text();
  if (!response.ok) {
    throw new OpenStackApiError(`${request.service}: ${request.method ?? 'GET'} ${url} answered ${response.status}: ${apiMessage(text)}`, request.service, response.status, text);
  }
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}

/** OpenStack error bodies nest the message one level down ({"badRequest": {"message": …}}). */
function apiMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as Record<string, { message?: string }>;
    const inner = Object.values(parsed)[0];
    if (inner && typeof inner.message === 'string') return inner.message;
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 300);
}
