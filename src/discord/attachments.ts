// A file a user attached to a command, fetched from the URL Discord gives (its
// CDN). The declared size is checked before anything is fetched, bytes are
// counted as they stream (a false size, or a server sending more, is cut off
// at the cap, not buffered), and the whole download has one deadline. Shared
// by the gateway and the HTTP interactions adapters.
import { AttachmentTooLargeError, AttachmentUnavailableError, type Attachment, type AttachmentLimits } from '../app/command.js';

export interface RemoteFile {
  name: string;
  url: string;
  /** What Discord says the file's size is. */
  size: number;
  contentType: string | null;
}

export function remoteAttachment(file: RemoteFile): Attachment {
  return { name: file.name, size: file.size, contentType: file.contentType, read: (limits) => download(file, limits) };
}

/** The file's bytes, at most `maxBytes` of them, within `timeoutMs` from the request to the last byte. */
export async function download({ url, size }: Pick<RemoteFile, 'url' | 'size'>, { maxBytes, timeoutMs }: AttachmentLimits): Promise<Buffer> {
  if (size > maxBytes) throw new AttachmentTooLargeError(maxBytes);
  const signal = AbortSignal.timeout(timeoutMs);
  // fetch's own message is "fetch failed"; the cause says what failed (ECONNREFUSED, a reset).
  const unavailable = (err: unknown) => {
    const e = err as Error & { cause?: { message?: string } };
    return new AttachmentUnavailableError(signal.aborted ? `no complete answer within ${timeoutMs / 1000} s` : (e.cause?.message ?? e.message));
  };
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (err) {
    throw unavailable(err);
  }
  const body = response.body;
  if (!response.ok || !body) {
    await body?.cancel();
    throw new AttachmentUnavailableError(`HTTP ${response.status}`);
  }
  if (Number(response.headers.get('content-length')) > maxBytes) {
    await body.cancel();
    throw new AttachmentTooLargeError(maxBytes);
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      total += chunk.value.byteLength;
      // Cancelling closes the connection: the rest is never received.
      if (total > maxBytes) throw new AttachmentTooLargeError(maxBytes);
      chunks.push(chunk.value);
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err instanceof AttachmentTooLargeError ? err : unavailable(err);
  }
  return Buffer.concat(chunks, total);
}
