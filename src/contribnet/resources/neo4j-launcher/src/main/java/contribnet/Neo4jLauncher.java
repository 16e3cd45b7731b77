package contribnet;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.QueryExecutionException;
import org.neo4j.kernel.internal.Version;

/**
 * Runs Neo4j Community embedded, reachable over Bolt only, until it receives SIGTERM.
 *
 * <p>Why not the server tarball: it is not on Maven Central, and Maven Central is all this
 * project may download from. The embedded DBMS plus neo4j-bolt is the same database engine and
 * speaks the same protocol to the Python driver.
 *
 * <p>Usage: {@code Neo4jLauncher --data-dir DIR [--port 7687] [--password PW] [--pagecache 512m]
 * [--tx-timeout 60s] [--no-auth] [--watch-pid PID] [--conf key=value ...]}. Every option also accepts
 * {@code --opt=value}. Environment fallbacks: CONTRIBNET_NEO4J_DATA_DIR, CONTRIBNET_NEO4J_PORT,
 * CONTRIBNET_NEO4J_PASSWORD (preferred over --password: arguments show up in {@code ps}),
 * CONTRIBNET_NEO4J_PAGECACHE, CONTRIBNET_NEO4J_TX_TIMEOUT.
 *
 * <p>Prints exactly one line starting with {@code CONTRIBNET-NEO4J READY} once Bolt accepts the
 * configured password; callers wait for it. Exit codes: 0 after a clean shutdown, 2 on bad
 * arguments, 1 when startup fails.
 */
public final class Neo4jLauncher {

    public static final String READY = "CONTRIBNET-NEO4J READY";

    private Neo4jLauncher() {}

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("neo4j-launcher: " + e.getMessage());
            System.err.println("usage: Neo4jLauncher --data-dir DIR [--port N] [--password PW]"
                    + " [--pagecache SIZE] [--tx-timeout DURATION] [--no-auth] [--watch-pid PID]"
                    + " [--conf key=value]...");
            System.exit(2);
            return;
        }

        Path home = o.dataDir.toAbsolutePath();
        Files.createDirectories(home);

        // Settings go through a generated neo4j.conf so that --conf can take any key by name
        // (the builder has no string-keyed setter). Later entries win, so --conf overrides defaults.
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("server.bolt.enabled", "true");
        conf.put("server.bolt.listen_address", "127.0.0.1:" + o.port);
        conf.put("server.bolt.advertised_address", "127.0.0.1:" + o.port);
        conf.put("server.bolt.tls_level", "DISABLED");
        conf.put("server.http.enabled", "false");
        conf.put("server.https.enabled", "false");
        conf.put("dbms.usage_report.enabled", "false");
        conf.put("server.memory.pagecache.size", o.pagecache);
        conf.put("db.transaction.timeout", o.txTimeout);
        conf.put("dbms.security.auth_enabled", Boolean.toString(o.auth));
        // Netty waits a 5 s quiet period per event-loop group on shutdown (~10 s per stop);
        // a local test server has nothing to drain.
        conf.put("internal.dbms.bolt.netty_server_shutdown_quiet_period", "0");
        conf.putAll(o.extraConf);
        Path confFile = home.resolve("neo4j-launcher.conf");
        writeConf(confFile, conf);

        long t0 = System.nanoTime();
        // The hook is registered before the DBMS exists so a SIGTERM during startup still
        // shuts down whatever was built (and never leaves a half-started JVM behind).
        AtomicReference<DatabaseManagementService> holder = new AtomicReference<>();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("CONTRIBNET-NEO4J stopping");
            System.out.flush();
            try {
                DatabaseManagementService d = holder.get();
                if (d != null) {
                    d.shutdown();
                }
            } finally {
                System.out.println("CONTRIBNET-NEO4J stopped");
                System.out.flush();
                stopped.countDown();
            }
        }, "contribnet-neo4j-shutdown"));
        if (o.watchPid > 0) {
            watch(o.watchPid);
        }

        try {
            DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                    .loadPropertiesFromFile(confFile)
                    .build();
            holder.set(dbms);
            if (o.auth) {
                setPassword(dbms.database("system"), o.password);
            }
            // Fail here, not in the first test, if the default database did not come up.
            GraphDatabaseService neo4j = dbms.database("neo4j");
            if (!neo4j.isAvailable(TimeUnit.SECONDS.toMillis(60))) {
                throw new IllegalStateException("database 'neo4j' not available after 60s");
            }
        } catch (RuntimeException | Error e) {
            System.err.println("neo4j-launcher: startup failed: " + e);
            e.printStackTrace();
            System.exit(1);
        }

        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        System.out.printf("%s bolt://127.0.0.1:%d version=%s auth=%s home=%s startup_ms=%d%n",
                READY, o.port, Version.getNeo4jVersion(), o.auth ? "on" : "off", home, ms);
        System.out.flush();

        // Neo4j's own threads keep the JVM alive anyway; block so main never returns early.
        stopped.await();
    }

    /**
     * Community has one user, neo4j, created with password "neo4j" and "change required". The
     * embedded API runs admin commands on the system database without a login, which is the only
     * way to set the password without the neo4j-admin tool. Runs on every start so the password in
     * the caller's state file is always the live one.
     */
    private static void setPassword(GraphDatabaseService system, String password) {
        try {
            system.executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
        } catch (QueryExecutionException e) {
            // Re-using an existing data dir with the same password: Neo4j refuses a no-op change.
            String msg = String.valueOf(e.getMessage());
            if (!msg.contains("Old password and new password cannot be the same")) {
                throw e;
            }
        }
    }

    /**
     * Test sessions pass their own pid: if the session dies without stopping the server (SIGKILL,
     * crash), the server exits too instead of lingering with the page cache allocated.
     */
    private static void watch(long pid) {
        Thread t = new Thread(() -> {
            while (true) {
                boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
                if (!alive) {
                    System.out.println("CONTRIBNET-NEO4J watched process " + pid + " is gone; exiting");
                    System.out.flush();
                    System.exit(0);
                }
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "contribnet-neo4j-watch");
        t.setDaemon(true);
        t.start();
    }

    private static void writeConf(Path file, Map<String, String> conf) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("# Written by contribnet Neo4jLauncher on every start; edits are overwritten.\n");
            for (Map.Entry<String, String> e : conf.entrySet()) {
                w.write(e.getKey() + "=" + e.getValue() + "\n");
            }
        }
    }

    private static final class Options {
        Path dataDir;
        int port = 7687;
        String password;
        String pagecache = "512m";
        String txTimeout = "60s";
        boolean auth = true;
        long watchPid = 0;
        final Map<String, String> extraConf = new LinkedHashMap<>();

        static Options parse(String[] args) {
            Options o = new Options();
            String env;
            if ((env = System.getenv("CONTRIBNET_NEO4J_DATA_DIR")) != null && !env.isEmpty()) {
                o.dataDir = Paths.get(env);
            }
            if ((env = System.getenv("CONTRIBNET_NEO4J_PORT")) != null && !env.isEmpty()) {
                o.port = parsePort(env);
            }
            if ((env = System.getenv("CONTRIBNET_NEO4J_PASSWORD")) != null && !env.isEmpty()) {
                o.password = env;
            }
            if ((env = System.getenv("CONTRIBNET_NEO4J_PAGECACHE")) != null && !env.isEmpty()) {
                o.pagecache = env;
            }
            if ((env = System.getenv("CONTRIBNET_NEO4J_TX_TIMEOUT")) != null && !env.isEmpty()) {
                o.txTimeout = env;
            }
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String name = a;
                String value = null;
                int eq = a.indexOf('=');
                if (a.startsWith("--") && eq > 0 && !a.startsWith("--conf=")) {
                    name = a.substring(0, eq);
                    value = a.substring(eq + 1);
                } else if (a.startsWith("--conf=")) {
                    name = "--conf";
                    value = a.substring("--conf=".length());
                }
                if (name.equals("--no-auth")) {
                    o.auth = false;
                    continue;
                }
                if (name.equals("-h") || name.equals("--help")) {
                    throw new IllegalArgumentException("help requested");
                }
                if (value == null) {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException("missing value for " + name);
                    }
                    value = args[++i];
                }
                switch (name) {
                    case "--data-dir" -> o.dataDir = Paths.get(value);
                    case "--port" -> o.port = parsePort(value);
                    case "--password" -> o.password = value;
                    case "--pagecache" -> o.pagecache = value;
                    case "--tx-timeout" -> o.txTimeout = value;
                    case "--watch-pid" -> o.watchPid = parseLong(value);
                    case "--conf" -> {
                        int e = value.indexOf('=');
                        if (e <= 0) {
                            throw new IllegalArgumentException("--conf needs key=value, got: " + value);
                        }
                        o.extraConf.put(value.substring(0, e).trim(), value.substring(e + 1).trim());
                    }
                    default -> throw new IllegalArgumentException("unknown option: " + name);
                }
            }
            if (o.dataDir == null) {
                throw new IllegalArgumentException("--data-dir is required");
            }
            if (o.auth && (o.password == null || o.password.length() < 8)) {
                throw new IllegalArgumentException(
                        "auth is on: give a password of at least 8 characters"
                                + " (CONTRIBNET_NEO4J_PASSWORD or --password), or --no-auth");
            }
            return o;
        }

        private static long parseLong(String s) {
            try {
                return Long.parseLong(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad number: " + s);
            }
        }

        private static int parsePort(String s) {
            try {
                int p = Integer.parseInt(s.trim());
                if (p < 1 || p > 65535) {
                    throw new NumberFormatException();
                }
                return p;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad port: " + s);
            }
        }
    }
}
