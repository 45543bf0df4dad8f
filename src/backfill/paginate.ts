/** One page of a listing and the token of the next, if any. */
export interface Page<T> {
  items: T[];
  next?: string;
}

/**
 * Turns a page-by-page API into an async iterable of items. While the
 * consumer works through one page, the next is already being fetched, so
 * listing latency hides behind the consumer; memory holds at most two pages.
 * Stops fetching when the consumer stops (return) or `signal` fires.
 */
export async function* paginate<T>(fetchPage: (token: string | undefined) => Promise<Page<T>>, signal: AbortSignal): AsyncGenerator<T> {
  let pending: Promise<Page<T>> | undefined = prefetch(fetchPage, undefined);
  while (pending !== undefined) {
    signal.throwIfAborted();
    const page: Page<T> = await pending;
    pending = page.next === undefined || page.next === '' ? undefined : prefetch(fetchPage, page.next);
    yield* page.items;
  }
}

function prefetch<T>(fetchPage: (token: string | undefined) => Promise<Page<T>>, token: string | undefined): Promise<Page<T>> {
  const page = fetchPage(token);
  // The consumer may stop before awaiting this page; its failure then has no
  // one to report to, and must not become an unhandled rejection.
  page.catch(() => {});
  return page;
}
