import type { ServerResponse } from 'node:http';

/** The cancellation of one request's work. */
export interface RequestSignal {
  signal: AbortSignal;
  /** True once the client closed the connection before the response was sent. */
  clientGone(): boolean;
  /** Clears the timer and listeners; call once the request is answered. */
  dispose(): void;
}

export interface RequestSignalOptions {
  /** Fires when shutdown's drain time is up. */
  hardStop: AbortSignal;
}

/**
 * One AbortController per request, fired by whichever comes first: the client
 * closing the connection before the response is sent (`res` 'close' before
 * 'finish': `req` 'close' fires as soon as the body is read, so it cannot tell),
 * or the end of the shutdown drain. The reason says which. (The request's
 * deadline is the pipeline's: see Delivery.deadline.)
 */
export function requestSignal(res: ServerResponse, options: RequestSignalOptions): RequestSignal {
  const { hardStop } = options;
  const controller = new AbortController();
  let gone = false;
  const abort = (reason: string) => (): void => {
    if (!controller.signal.aborted) controller.abort(new Error(reason));
  };
  const onClose = (): void => {
    if (res.writableFinished) return;
    gone = true;
    abort('client disconnected')();
  };
  const onHardStop = abort('server shutting down');
  res.on('close', onClose);
  if (hardStop.aborted) onHardStop();
  else hardStop.addEventListener('abort', onHardStop, { once: true });
  return {
    signal: controller.signal,
    clientGone: () => gone,
    dispose() {
      res.off('close', onClose);
      hardStop.removeEventListener('abort', onHardStop);
    },
  };
}
