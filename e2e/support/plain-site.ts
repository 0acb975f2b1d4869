import { createServer, type Server } from 'node:http';

/**
 * A minimal static web server standing in for a site owner's plain HTML site: fixed pages, fixed
 * headers, no bundler. Used to test the script-tag embed as a real page on a real origin.
 */
export interface PlainSite {
  close(): Promise<void>;
}

export async function startPlainSite(
  port: number,
  routes: Record<string, { type: string; body: string | Buffer; headers?: Record<string, string> }>,
  /** Every path requested, in order: what the browser actually fetched. */
  requests: string[] = [],
): Promise<PlainSite> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    requests.push(path);
    const route = routes[path];
    if (!route) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': route.type, ...route.headers }).end(route.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, 'localhost', resolve);
  });
  return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
