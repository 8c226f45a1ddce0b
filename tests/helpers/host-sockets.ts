// Host services that only local processes should reach, for the tests that check a guest on the
// host's stack cannot: a TCP service on 127.0.0.1 only (a random free port) that answers
// "host-loopback", and abstract unix sockets @NAME (stream) and @NAME-dgram. One python3
// process, started here and killed by its PID in stop().

const SCRIPT = `
import socket, sys, threading
t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen()
u = socket.socket(socket.AF_UNIX); u.bind("\\0" + sys.argv[1]); u.listen()
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d.bind("\\0" + sys.argv[1] + "-dgram")
print(t.getsockname()[1], flush=True)
def serve(s, text):
    while True:
        c, _ = s.accept()
        try: c.send(text)
        except OSError: pass
        c.close()
threading.Thread(target=serve, args=(u, b"host-abstract\\n"), daemon=True).start()
threading.Thread(target=lambda: [d.recv(100) for _ in iter(int, 1)], daemon=True).start()
serve(t, b"host-loopback\\n")
`;

export interface HostSockets {
  port: number;
  abstract: string;
  stop(): void;
}

export async function startHostSockets(): Promise<HostSockets> {
  const abstract = `vst-${Math.random().toString(36).slice(2, 10)}`;
  const p = Bun.spawn(["python3", "-c", SCRIPT, abstract], { stdout: "pipe", stderr: "inherit" });
  const reader = (p.stdout as ReadableStream<Uint8Array>).getReader();
  const { value } = await reader.read();
  const port = Number(new TextDecoder().decode(value).trim());
  if (!port) {
    p.kill("SIGKILL");
    throw new Error("the host socket helper did not start");
  }
  return { port, abstract, stop: () => { try { p.kill("SIGKILL"); } catch {} } };
}
