/** The API's error envelope: {"error":{"message","type","code"}}. */
export interface ErrorEnvelope {
  error: { message?: string; type?: string; code?: string | null; param?: string | null };
}

/** ApiError is every failed API call: HTTP status plus the envelope's fields. */
export class ApiError extends Error {
  constructor(
    /** HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    message: string,
    readonly type = "",
    readonly code = "",
    /** The request field the error is about ("rules[1].tier"), when the API named one. */
    readonly param = "",
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const fallback: Record<number, string> = {
  0: "Can't reach the Tollgate server. Check your connection and try again.",
  400: "The request was not valid.",
  401: "Your session has expired. Please sign in again.",
  403: "Your role doesn't allow this action.",
  404: "Not found — it may have been deleted, or you don't have access.",
  409: "This conflicts with the current state. Refresh and try again.",
  413: "The request is too large.",
  422: "Some fields are not valid.",
  429: "Too many requests or budget exceeded. Try again shortly.",
};

/** Builds an ApiError from a response status and its (possibly non-JSON) body. */
export function errorFromBody(status: number, body: unknown): ApiError {
  const env = (body as ErrorEnvelope | null)?.error;
  const generic = fallback[status] ?? (status >= 500 ? "The server hit an error. Try again in a moment." : `Request failed (${status}).`);
  const message = typeof env?.message === "string" && env.message.trim() ? env.message : generic;
  return new ApiError(status, message, env?.type ?? "", env?.code ?? "", env?.param ?? "");
}

/** A user-facing sentence for any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 403 && !/role|permission|allowed|forbidden/i.test(e.message)) {
      return `${e.message} (your role doesn't allow this)`;
    }
    return e.message;
  }
  if (e instanceof Error) return e.message;
  return "Something went wrong.";
}
