package dev.matviews.support;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of PostgreSQL that counts database round trips: the frontend messages
 * after which a client waits for the server, that is Query (simple protocol) and Sync (extended
 * protocol). It forwards every byte unchanged; it only reads the message framing of what the
 * client sends.
 */
public final class WireCounter implements AutoCloseable {

    private static final int SSL_REQUEST = 80877103;
    private static final int GSS_REQUEST = 80877104;
    private static final int CANCEL_REQUEST = 80877102;

    private final ServerSocket server;
    private final String targetHost;
    private final int targetPort;
    private final AtomicInteger roundTrips = new AtomicInteger();
    private final AtomicInteger parses = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicBoolean cutNext = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicBoolean resetNext = new java.util.concurrent.atomic.AtomicBoolean();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    public WireCounter(String targetHost, int targetPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "wire-counter-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Round trips counted since the last reset. */
    public int roundTrips() {
        return roundTrips.get();
    }

    public void reset() {
        roundTrips.set(0);
        parses.set(0);
    }

    /** Statements the clients prepared (Parse messages) since the last reset. */
    public int parses() {
        return parses.get();
    }

    /**
     * The next message any client sends is not forwarded: its connection is cut instead (both
     * sockets closed), as a failover or a NAT dropping an idle connection would leave it. The
     * server never sees that message.
     */
    public void cutAtNextMessage() {
        cutNext.set(true);
    }

    /**
     * The next message any client sends is not forwarded: the client's connection is reset (an
     * RST, as a killed backend's host or a stateful firewall sends), so its next read fails with
     * the socket's own "Connection reset" rather than an orderly close.
     */
    public void resetAtNextMessage() {
        resetNext.set(true);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(targetHost, targetPort);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(upstream);
                start(() -> countAndForward(client, client.getInputStream(),
                        new BufferedOutputStream(upstream.getOutputStream())), client, upstream);
                start(() -> upstream.getInputStream().transferTo(client.getOutputStream()), client, upstream);
            } catch (IOException e) {
                return;
            }
        }
    }

    private interface Pump {
        Object run() throws IOException;
    }

    private void start(Pump pump, Socket a, Socket b) {
        Thread t = new Thread(() -> {
            try {
                pump.run();
            } catch (IOException ignored) {
                // a side closed
            } finally {
                closeQuietly(a);
                closeQuietly(b);
            }
        }, "wire-counter-pump");
        t.setDaemon(true);
        t.start();
    }

    /** Copies the client's stream message by message, counting Query and Sync. */
    private Object countAndForward(Socket client, InputStream from, OutputStream to) throws IOException {
        DataInputStream in = new DataInputStream(from);
        // Untyped messages first: SSL/GSS requests (answered with one byte), then the startup message.
        while (true) {
            int length = in.readInt();
            byte[] body = in.readNBytes(length - 4);
            writeInt(to, length);
            to.write(body);
            to.flush();
            int code = length >= 8 ? ((body[0] & 0xff) << 24) | ((body[1] & 0xff) << 16) | ((body[2] & 0xff) << 8)
                    | (body[3] & 0xff) : 0;
            if (code == CANCEL_REQUEST) {
                return null;
            }
            if (code != SSL_REQUEST && code != GSS_REQUEST) {
                break;
            }
        }
        while (true) {
            int type = in.read();
            if (type < 0) {
                throw new EOFException();
            }
            int length = in.readInt();
            byte[] body = in.readNBytes(length - 4);
            if (cutNext.compareAndSet(true, false)) {
                throw new EOFException("cut by the test");
            }
            if (resetNext.compareAndSet(true, false)) {
                client.setSoLinger(true, 0);
                client.close();
                throw new EOFException("reset by the test");
            }
            if (type == 'Q' || type == 'S') {
                roundTrips.incrementAndGet();
            }
            if (type == 'P') {
                parses.incrementAndGet();
            }
            // -Dwire.debug=true prints each message, to see what a count is made of.
            if (Boolean.getBoolean("wire.debug")) {
                System.err.println("WIRE " + (char) type + " " + new String(body, 0, Math.min(body.length, 80),
                        java.nio.charset.StandardCharsets.UTF_8).replaceAll("[^\\p{Print}]", "."));
            }
            to.write(type);
            writeInt(to, length);
            to.write(body);
            if (in.available() == 0) {
                to.flush();
            }
        }
    }

    private static void writeInt(OutputStream out, int v) throws IOException {
        out.write(new byte[]{(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        sockets.forEach(WireCounter::closeQuietly);
    }
}
