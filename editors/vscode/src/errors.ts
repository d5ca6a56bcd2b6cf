// Errors from the daemon, turned into what a person reads. The daemon's messages are already
// one actionable sentence (protocol.md, Errors); this only adds what the editor can offer.

import { ERROR_CODES, type ErrorData } from './protocol';

export interface RpcErrorLike {
  code: number;
  message: string;
  data?: unknown;
}

export function isRpcError(err: unknown): err is RpcErrorLike {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as RpcErrorLike).code === 'number' &&
    typeof (err as RpcErrorLike).message === 'string'
  );
}

export function errorData(err: unknown): ErrorData {
  if (isRpcError(err) && typeof err.data === 'object' && err.data !== null) {
    return err.data as ErrorData;
  }
  return {};
}

export function isCancelled(err: unknown): boolean {
  return isRpcError(err) && err.code === ERROR_CODES.RequestCancelled;
}

/** Kinds for which the fix is signing in again. */
export function needsSignIn(err: unknown): boolean {
  return errorData(err).kind === 'auth';
}

export function describeError(err: unknown): string {
  if (isRpcError(err)) {
    return err.message;
  }
  if (err instanceof Error) {
    return err.message;
  }
  return String(err);
}
