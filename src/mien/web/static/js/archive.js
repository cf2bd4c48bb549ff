// Members of an archive this browser sent, read back here, so that results for files inside an
// archive can show their pictures and recordings too. Zip (stored or deflated) and tar (plain or
// gzip); other formats (bz2, xz) are left unread and their results shown without media.

const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024;
const TYPES = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  bmp: "image/bmp",
  mp4: "video/mp4",
  mov: "video/quicktime",
  webm: "video/webm",
  mkv: "video/x-matroska",
  wav: "audio/wav",
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  ogg: "audio/ogg",
  flac: "audio/flac",
  txt: "text/plain",
  json: "application/json",
};

/** Map(member path → File), or null when `file` is not an archive this page can read. */
export async function membersOf(file) {
  if (file.size > MAX_ARCHIVE_BYTES) return null;
  const name = file.name.toLowerCase();
  try {
    if (name.endsWith(".zip")) return await zipMembers(new Uint8Array(await file.arrayBuffer()));
    if (name.endsWith(".tar")) return tarMembers(new Uint8Array(await file.arrayBuffer()));
    if (name.endsWith(".tar.gz") || name.endsWith(".tgz")) {
      return tarMembers(await inflate(file, "gzip"));
    }
  } catch {
    // a damaged archive: the server said which members failed; show the rest without media
  }
  return null;
}

function member(path, bytes) {
  const base = path.split("/").pop();
  const type = TYPES[base.split(".").pop().toLowerCase()] || "";
  return [path.replace(/^\.\//, ""), new File([bytes], base, { type })];
}

async function inflate(data, format) {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream(format));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function zipMembers(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = bytes.length - 22; // the end-of-central-directory record, before any comment
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) return null;
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const decoder = new TextDecoder();
  const members = new Map();
  for (let i = 0; i < count && view.getUint32(at, true) === 0x02014b50; i++) {
    const method = view.getUint16(at + 10, true);
    const size = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const skip = nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const path = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    at += 46 + skip;
    if (path.endsWith("/")) continue;
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const data = bytes.subarray(start, start + size);
    if (method === 0) members.set(...member(path, data));
    else if (method === 8) members.set(...member(path, await inflate(data, "deflate-raw")));
  }
  return members;
}

function tarMembers(bytes) {
  const decoder = new TextDecoder();
  const text = (from, length) => decoder.decode(bytes.subarray(from, from + length)).replace(/\0.*$/s, "");
  const members = new Map();
  let longName = null;
  for (let at = 0; at + 512 <= bytes.length;) {
    const name = text(at, 100);
    if (!name) break; // two empty blocks end the archive
    const size = parseInt(text(at + 124, 12).trim() || "0", 8);
    const kind = String.fromCharCode(bytes[at + 156] || 48);
    const prefix = text(at + 257, 6).startsWith("ustar") ? text(at + 345, 155) : "";
    const data = bytes.subarray(at + 512, at + 512 + size);
    if (kind === "L") longName = decoder.decode(data).replace(/\0.*$/s, "");
    else {
      if (kind === "0" || kind === "7") {
        members.set(...member(longName || (prefix ? `${prefix}/${name}` : name), data));
      }
      longName = null;
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return members;
}
