// ProcessPool.Bench: one workload of the ProcessPool-vs-multiprocessing benchmark per invocation.
//
//   dotnet exec ProcessPool.Bench.dll --workload throughput|batches|overhead|cpu|memory|cold [--repeat N] [--items N]
//                                     [--rounds N] [--workers N] [--timeout S]
//
// Prints one JSON line per run on stdout (diagnostics go to stderr). bench/run.sh alternates these runs with
// bench/peer_multiprocessing.py, which takes the same arguments and reports the same headline fields.
// --workload idle is a diagnostic outside the table: the CPU an idle pool and a single long item cost.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using ProcessPool.BenchMethods;
using ProcessPool.Engine;
using ProcessPool.Engine.Methods;

namespace ProcessPool.Bench
{
    internal static class Program
    {
        private static readonly string Dir = AppContext.BaseDirectory;
        private static readonly string WorkerDll = Path.Combine(Dir, "ProcessPool.Worker.dll");
        private static readonly string MethodsDll = Path.Combine(Dir, "ProcessPool.BenchMethods.dll");
        private static int Workers = 2;
        private const int CpuRounds = 3;
        // Diagnostics only: BENCH_CPU_CHUNK fixes the CPU map's chunk size (the table uses the default, adaptive chunking).
        private static readonly int? CpuChunkSize = EnvInt("BENCH_CPU_CHUNK", 0) is int c && c > 0 ? c : null;

        // CPU warm-up (serial loop, pool and the Python peer alike): one full untimed pass of the workload, so the timed
        // pass runs tier-1 code. BENCH_CPU_WARM_ITEMS/ROUNDS (and BENCH_WARM_ITEMS for the trivial maps) override it, for diagnostics.
        private static readonly int WarmItems = EnvInt("BENCH_CPU_WARM_ITEMS", 64), WarmRounds = EnvInt("BENCH_CPU_WARM_ROUNDS", 20_000);

        private static int EnvInt(string name, int fallback) =>
            int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : fallback;

        private static int Main(string[] args)
        {
            string workload = "";
            int repeat = 1;
            long? items = null;
            int rounds = 20_000;
            double? timeoutSeconds = null;
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--workload": workload = Next(); break;
                    case "--repeat": repeat = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--items": items = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--workers": Workers = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--timeout": timeoutSeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                    default:
                        Console.Error.WriteLine($"unknown argument {args[i]}");
                        return 2;
                }
            }

            Func<int, Dictionary<string, object?>> run;
            double defaultTimeout;
            switch (workload)
            {
                case "throughput": run = _ => Trivial("throughput", items ?? 1_000_000, chunkSize: null); defaultTimeout = 180; break;
                case "batches": run = _ => Batches(items ?? 1_000_000, EnvInt("BENCH_BATCH_SIZE", 0) is int b && b > 0 ? b : null); defaultTimeout = 180; break;
                case "overhead": run = _ => Trivial("overhead", items ?? 20_000, chunkSize: 1); defaultTimeout = 180; break;
                case "cpu": run = _ => Cpu((int)(items ?? 64), rounds); defaultTimeout = 180; break;
                case "memory": run = _ => Memory(items ?? 10_000_000); defaultTimeout = 400; break;
                case "cold": run = Cold; defaultTimeout = 120; break;
                case "serial-child": return SerialChild((int)(items ?? 64), rounds);
                case "idle": run = _ => Idle(items ?? 5); defaultTimeout = 120; break;
                default:
                    Console.Error.WriteLine("usage: --workload throughput|overhead|cpu|memory|cold|idle [--repeat N] [--items N] [--rounds N] [--workers N] [--timeout S]");
                    return 2;
            }

            for (int r = 1; r <= repeat; r++)
            {
                using var watchdog = Watchdog.Start(workload, r, TimeSpan.FromSeconds(timeoutSeconds ?? defaultTimeout));
                Dictionary<string, object?> result;
                try
                {
                    result = run(r);
                }
                catch (Exception error)
                {
                    Emit(Header(workload, r, new Dictionary<string, object?> { ["error"] = $"{error.GetType().Name}: {error.Message}" }));
                    Console.Error.WriteLine(error);
                    return 1;
                }
                Emit(Header(workload, r, result));
            }
            return 0;
        }

        // ---- workloads ---------------------------------------------------------------------------

        /// <summary>a. throughput (default chunking) and b. per-item overhead (chunk size 1): trivial x -> 2x items through a warm pool.</summary>
        private static Dictionary<string, object?> Trivial(string workload, long count, int? chunkSize)
        {
            using var pool = NewPool();
            if (!pool.WaitForWorkers(TimeSpan.FromSeconds(60))) throw new TimeoutException("workers did not start in 60 s");
            var result = TimedPass(pool, count, n => RunDouble(pool, n, chunkSize, out _));
            result["chunk_size"] = chunkSize;

            // Reference (untimed above): what the parent's share of the JSON codec alone costs, one Encode and one Decode per item.
            var clock = Stopwatch.StartNew();
            long check = 0;
            for (long i = 0; i < count; i++) check += MethodJson.Decode<long>(MethodJson.Encode(i));
            result["parent_json_codec_seconds"] = clock.Elapsed.TotalSeconds;
            GC.KeepAlive(check);
            return result;
        }

        /// <summary>
        /// a'. throughput through the batch API (<see cref="MethodBatch.MapArray"/>, Pool.map's shape: an array in, an array
        /// of results out): the same 1M items and method, in batches of <paramref name="batchSize"/> (by default Pool.map's rule: 4 per worker).
        /// </summary>
        private static Dictionary<string, object?> Batches(long count, int? batchSize)
        {
            using var pool = NewPool();
            if (!pool.WaitForWorkers(TimeSpan.FromSeconds(60))) throw new TimeoutException("workers did not start in 60 s");
            var result = TimedPass(pool, count, n => RunDoubleBatched(pool, n, batchSize, out _));
            result["batch_size"] = batchSize;
            return result;
        }

        /// <summary>
        /// The throughput workloads' passes: one full untimed pass (reported as first_pass_seconds, not in the table: it
        /// loads the method in both workers and brings the parent's and the workers' hot paths to tier-1 JIT code), then
        /// the timed one, with its rate, chunks, CPU of the parent and the workers, and GC.
        /// </summary>
        private static Dictionary<string, object?> TimedPass(WorkerPool pool, long count, Func<long, ChunkCounter> run)
        {
            var first = Stopwatch.StartNew();
            run(EnvInt("BENCH_WARM_ITEMS", (int)count));
            double firstPassSeconds = first.Elapsed.TotalSeconds;

            var gc = GcMeter.Start();
            var cpu = CpuMeter.Start(pool);
            var clock = Stopwatch.StartNew();
            var chunks = run(count);
            double seconds = clock.Elapsed.TotalSeconds;
            var used = cpu.Stop();
            var collections = gc.Stop();
            return new Dictionary<string, object?>
            {
                ["items"] = count,
                ["seconds"] = seconds,
                ["items_per_s"] = count / seconds,
                ["per_item_us"] = seconds * 1e6 / count,
                ["first_pass_seconds"] = firstPassSeconds,
                ["chunks"] = chunks.Count,
                ["max_chunk"] = chunks.Max,
                ["parent_cpu_seconds"] = used.parent,
                ["workers_cpu_seconds"] = used.workers,
                ["gc_gen0"] = collections.gen0,
                ["gc_gen1"] = collections.gen1,
                ["gc_gen2"] = collections.gen2,
                ["gc_pause_ms"] = collections.pauseMs,
            };
        }

        private static ChunkCounter RunDoubleBatched(WorkerPool pool, long count, int? batchSize, out long checkedCount)
        {
            var chunks = new ChunkCounter();
            var options = DoubleOptions(null);
            options.ChunkCompleted = chunks.Add;
            // Input built inside the timed section, as Python's pool.map builds its chunks from range(count).
            var input = new long[count];
            for (long i = 0; i < count; i++) input[i] = i;
            var results = MethodBatch.MapArray<long, long>(pool, options, input, batchSize);
            if (results.Length != count) throw new InvalidDataException($"got {results.Length} results for {count} items");
            for (long i = 0; i < count; i++)
                if (results[i] != 2 * i) throw new InvalidDataException($"item {i}: got {results[i]}, expected {2 * i}");
            checkedCount = count;
            return chunks;
        }

        /// <summary>Maps Double over 0..count-1 (encoded lazily), checks every result in order, returns chunk statistics.</summary>
        private static ChunkCounter RunDouble(WorkerPool pool, long count, int? chunkSize, out MapRun map)
        {
            var chunks = new ChunkCounter();
            var options = DoubleOptions(chunkSize);
            options.ChunkCompleted = chunks.Add;
            map = pool.StartMap(options, Numbers(count));
            Watchdog.Current?.Watch(pool, map);
            long expected = 0;
            foreach (var item in map.GetResults())
            {
                Check(item, expected);
                long value = MethodJson.Decode<long>(Single(item));
                if (value != 2 * expected) throw new InvalidDataException($"item {expected}: got {value}, expected {2 * expected}");
                expected++;
            }
            if (expected != count) throw new InvalidDataException($"got {expected} results for {count} items");
            return chunks;
        }

        /// <summary>
        /// c. 64 SHA-256 chains: serial in-process loop vs the 2-worker pool, same method, results compared. Both are warmed
        /// by one untimed pass, then timed <see cref="CpuRounds"/> times each, alternating serial and pool; the best of
        /// each is kept (host noise only ever adds time), and the speedup is best serial / best pool.
        /// </summary>
        private static Dictionary<string, object?> Cpu(int count, int rounds)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < WarmItems; i++) Work.Sha(WarmRounds);
            double serialFirstPass = clock.Elapsed.TotalSeconds;

            // Reference: the same items on two threads of this process (no pool, no IPC), timed once.
            var threaded = new string[count];
            int next = -1;
            clock.Restart();
            var threads = Enumerable.Range(0, Workers).Select(_ => new Thread(() =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count) threaded[i] = Work.Sha(rounds);
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            double threadSeconds = clock.Elapsed.TotalSeconds;

            using var pool = NewPool();
            if (!pool.WaitForWorkers(TimeSpan.FromSeconds(60))) throw new TimeoutException("workers did not start in 60 s");
            var warm = new MapOptions(MethodPayload.Kind, MethodPayload.For(MethodsDll, "ProcessPool.BenchMethods.Work::Sha").Encode());
            clock.Restart();
            foreach (var item in pool.Map(Enumerable.Repeat(MethodJson.Encode(WarmRounds), WarmItems).ToList(), warm)) Check(item, item.Sequence);
            double poolFirstPass = clock.Elapsed.TotalSeconds;

            var serialTimes = new List<double>();
            var poolTimes = new List<double>();
            string[] serial = Array.Empty<string>();
            double bestItemSeconds = 0, bestParentCpu = 0, bestWorkersCpu = 0;
            int chunksOfBest = 0, workersUsed = 0;
            for (int round = 0; round < CpuRounds; round++)
            {
                clock.Restart();
                serial = new string[count];
                for (int i = 0; i < count; i++) serial[i] = Work.Sha(rounds);
                serialTimes.Add(clock.Elapsed.TotalSeconds);
                if (round == 0)
                    for (int i = 0; i < count; i++)
                        if (threaded[i] != serial[i]) throw new InvalidDataException($"item {i}: threaded hash differs from serial");

                var chunks = new ChunkCounter();
                var options = new MapOptions(MethodPayload.Kind, MethodPayload.For(MethodsDll, "ProcessPool.BenchMethods.Work::Sha").Encode()) { ChunkCompleted = chunks.Add, ChunkSize = CpuChunkSize };
                var cpu = CpuMeter.Start(pool);
                double itemSeconds = 0;
                var pids = new HashSet<int>();
                clock.Restart();
                var map = pool.StartMap(options, Enumerable.Repeat(MethodJson.Encode(rounds), count));
                Watchdog.Current?.Watch(pool, map);
                long expected = 0;
                foreach (var item in map.GetResults())
                {
                    Check(item, expected);
                    string hash = MethodJson.Decode<string>(Single(item)) ?? "";
                    if (hash != serial[expected]) throw new InvalidDataException($"item {expected}: pool hash {hash} differs from serial {serial[expected]}");
                    pids.Add(item.ProcessId);
                    itemSeconds += item.Duration.TotalSeconds;
                    expected++;
                }
                double poolSeconds = clock.Elapsed.TotalSeconds;
                var used = cpu.Stop();
                if (expected != count) throw new InvalidDataException($"got {expected} results for {count} items");
                if (poolTimes.Count == 0 || poolSeconds < poolTimes.Min())
                {
                    bestItemSeconds = itemSeconds;
                    (bestParentCpu, bestWorkersCpu) = used;
                    chunksOfBest = chunks.Count;
                    workersUsed = pids.Count;
                }
                poolTimes.Add(poolSeconds);
            }
            double serialBest = serialTimes.Min(), poolBest = poolTimes.Min();
            var (ceiling, concurrentBest) = SerialCeiling(count, rounds, serialBest);
            return new Dictionary<string, object?>
            {
                ["ceiling_speedup"] = ceiling,
                ["ceiling_fraction"] = serialBest / poolBest / ceiling,
                ["two_serial_processes_seconds"] = concurrentBest,
                ["items"] = count,
                ["rounds"] = rounds,
                ["serial_seconds"] = serialBest,
                ["pool_seconds"] = poolBest,
                ["speedup"] = serialBest / poolBest,
                ["serial_times"] = serialTimes,
                ["pool_times"] = poolTimes,
                ["serial_first_pass_seconds"] = serialFirstPass,
                ["first_pass_seconds"] = poolFirstPass,
                ["threads_seconds"] = threadSeconds,
                ["threads_speedup"] = serialBest / threadSeconds,
                ["workers_used"] = workersUsed,
                ["chunks"] = chunksOfBest,
                ["item_seconds_sum"] = bestItemSeconds,
                ["parent_cpu_seconds"] = bestParentCpu,
                ["workers_cpu_seconds"] = bestWorkersCpu,
                ["hash"] = serial[0],
            };
        }

        /// <summary>
        /// The machine's ceiling for the CPU workload, measured in the same run: two independent serial processes (this
        /// program, <c>--workload serial-child</c>) each run the same 64 items at once, after their own warm-up, started
        /// together <see cref="CpuRounds"/> times. Two processes doing twice the work in the best concurrent time give
        /// ceiling = 2 × serial ÷ concurrent: what two cores of this VM deliver with no pool at all (1.7x, not 2x, here).
        /// </summary>
        private static (double ceiling, double concurrentBest) SerialCeiling(int count, int rounds, double serialBest)
        {
            var children = Enumerable.Range(0, Workers).Select(_ =>
            {
                var info = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
                if (Path.GetFileNameWithoutExtension(info.FileName).Equals("dotnet", StringComparison.OrdinalIgnoreCase)) info.ArgumentList.Add(typeof(Program).Assembly.Location);
                foreach (string arg in new[] { "--workload", "serial-child", "--items", count.ToString(CultureInfo.InvariantCulture), "--rounds", rounds.ToString(CultureInfo.InvariantCulture) })
                    info.ArgumentList.Add(arg);
                return Process.Start(info)!;
            }).ToList();
            try
            {
                foreach (var child in children)
                    if (child.StandardOutput.ReadLine() != "ready") throw new InvalidDataException("serial child did not warm up");
                double best = double.MaxValue;
                for (int round = 0; round < CpuRounds; round++)
                {
                    var clock = Stopwatch.StartNew();
                    foreach (var child in children) child.StandardInput.WriteLine("go");
                    foreach (var child in children) child.StandardInput.Flush();
                    foreach (var child in children)
                        if (child.StandardOutput.ReadLine() != "done") throw new InvalidDataException("serial child failed");
                    best = Math.Min(best, clock.Elapsed.TotalSeconds);
                }
                foreach (var child in children) child.StandardInput.Close();
                foreach (var child in children) child.WaitForExit(10_000);
                return (Workers * serialBest / best, best);
            }
            finally
            {
                foreach (var child in children)
                {
                    if (!child.HasExited) child.Kill();
                    child.Dispose();
                }
            }
        }

        /// <summary>One of the two serial processes of <see cref="SerialCeiling"/>: warms up, says ready, then runs the items once per "go".</summary>
        private static int SerialChild(int count, int rounds)
        {
            for (int i = 0; i < WarmItems; i++) Work.Sha(WarmRounds);
            Console.Out.WriteLine("ready");
            Console.Out.Flush();
            while (Console.In.ReadLine() == "go")
            {
                for (int i = 0; i < count; i++) Work.Sha(rounds);
                Console.Out.WriteLine("done");
                Console.Out.Flush();
            }
            return 0;
        }

        /// <summary>d. 10M items streamed through an ordered map: peak growth of the parent's memory over the baseline taken just before.</summary>
        private static Dictionary<string, object?> Memory(long count)
        {
            using var pool = NewPool();
            if (!pool.WaitForWorkers(TimeSpan.FromSeconds(60))) throw new TimeoutException("workers did not start in 60 s");
            RunDouble(pool, 1_000_000, null, out _); // warm-up, as in the throughput workload

            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            long baselineRss = Rss();
            long baselineHeap = GC.GetTotalMemory(false);
            long peakRss = baselineRss, peakHeap = baselineHeap;
            int samples = 0;
            using var stop = new ManualResetEventSlim();
            var sampler = new Thread(() =>
            {
                while (!stop.Wait(50))
                {
                    peakRss = Math.Max(peakRss, Rss());
                    peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
                    samples++;
                }
            }) { IsBackground = true, Name = "memory sampler" };
            sampler.Start();

            var gc = GcMeter.Start();
            var cpu = CpuMeter.Start(pool);
            var clock = Stopwatch.StartNew();
            var options = DoubleOptions(null);
            var map = pool.StartMap(options, Numbers(count));
            Watchdog.Current?.Watch(pool, map);
            long expected = 0;
            foreach (var item in map.GetResults())
            {
                Check(item, expected);
                if (MethodJson.Decode<long>(Single(item)) != 2 * expected) throw new InvalidDataException($"item {expected}: wrong result");
                expected++;
            }
            double seconds = clock.Elapsed.TotalSeconds;
            var used = cpu.Stop();
            var collections = gc.Stop();
            stop.Set();
            sampler.Join();
            if (expected != count) throw new InvalidDataException($"got {expected} results for {count} items");
            const double MB = 1024.0 * 1024.0;
            return new Dictionary<string, object?>
            {
                ["items"] = count,
                ["seconds"] = seconds,
                ["items_per_s"] = count / seconds,
                ["capacity"] = map.Capacity,
                ["baseline_rss_mb"] = baselineRss / MB,
                ["peak_rss_growth_mb"] = (peakRss - baselineRss) / MB,
                ["peak_heap_growth_mb"] = (peakHeap - baselineHeap) / MB,
                ["samples"] = samples,
                ["parent_cpu_seconds"] = used.parent,
                ["workers_cpu_seconds"] = used.workers,
                ["gc_gen0"] = collections.gen0,
                ["gc_gen1"] = collections.gen1,
                ["gc_gen2"] = collections.gen2,
                ["gc_pause_ms"] = collections.pauseMs,
            };
        }

        /// <summary>Diagnostic (not in the table): CPU the parent and the workers burn while the pool sits idle, and while one long item runs.</summary>
        private static Dictionary<string, object?> Idle(long seconds)
        {
            using var pool = NewPool();
            if (!pool.WaitForWorkers(TimeSpan.FromSeconds(60))) throw new TimeoutException("workers did not start in 60 s");
            foreach (var item in pool.Map(new[] { MethodJson.Encode(WarmRounds) }, ShaOptions())) Check(item, 0);
            Thread.Sleep(500);
            var cpu = CpuMeter.Start(pool);
            var clock = Stopwatch.StartNew();
            Thread.Sleep(TimeSpan.FromSeconds(seconds));
            double idleSeconds = clock.Elapsed.TotalSeconds;
            var idle = cpu.Stop();

            // One item of about the same length on one worker: item time vs the CPU its worker and the parent used.
            int rounds = (int)(seconds * 1_000_000 / 0.45); // about 0.45 µs per SHA-256 round here
            cpu = CpuMeter.Start(pool);
            clock.Restart();
            double itemSeconds = 0;
            foreach (var item in pool.Map(new[] { MethodJson.Encode(rounds) }, ShaOptions())) { Check(item, 0); itemSeconds = item.Duration.TotalSeconds; }
            double busySeconds = clock.Elapsed.TotalSeconds;
            var busy = cpu.Stop();
            return new Dictionary<string, object?>
            {
                ["idle_seconds"] = idleSeconds,
                ["idle_parent_cpu_seconds"] = idle.parent,
                ["idle_workers_cpu_seconds"] = idle.workers,
                ["one_item_wall_seconds"] = busySeconds,
                ["one_item_duration_seconds"] = itemSeconds,
                ["one_item_parent_cpu_seconds"] = busy.parent,
                ["one_item_workers_cpu_seconds"] = busy.workers,
            };
        }

        private static MapOptions ShaOptions() =>
            new MapOptions(MethodPayload.Kind, MethodPayload.For(MethodsDll, "ProcessPool.BenchMethods.Work::Sha").Encode());

        /// <summary>e. Cold start: new WorkerPool -> first result of a one-item map. Measured twice: with the parent cold (first pool in the process), then again.</summary>
        private static Dictionary<string, object?> Cold(int run)
        {
            var first = ColdOnce();
            var second = ColdOnce();
            return new Dictionary<string, object?>
            {
                ["first_result_ms"] = first.total,
                ["workers_ready_ms"] = first.ready,
                ["second_pool_first_result_ms"] = second.total,
                ["second_pool_workers_ready_ms"] = second.ready,
                ["parent_was_cold"] = run == 1,
            };
        }

        private static (double total, double? ready) ColdOnce()
        {
            var clock = Stopwatch.StartNew();
            double? lastReady = null;
            int readyCount = 0;
            using var pool = new WorkerPool(Options());
            pool.EventRaised += (_, e) =>
            {
                if (e.Kind == PoolEventKind.WorkerReady && Interlocked.Increment(ref readyCount) == Workers) lastReady = clock.Elapsed.TotalMilliseconds;
            };
            double? firstResult = null;
            var map = pool.StartMap(DoubleOptions(null), new[] { MethodJson.Encode(21L) });
            Watchdog.Current?.Watch(pool, map);
            foreach (var item in map.GetResults())
            {
                firstResult ??= clock.Elapsed.TotalMilliseconds;
                Check(item, 0);
                if (MethodJson.Decode<long>(Single(item)) != 42) throw new InvalidDataException("cold item: wrong result");
            }
            if (firstResult == null) throw new InvalidDataException("cold map returned no result");
            // Both workers are started eagerly; when the second is not ready by the first result, wait (untimed) to report when it was.
            pool.WaitForWorkers(TimeSpan.FromSeconds(30));
            return (firstResult.Value, lastReady);
        }

        // ---- helpers -----------------------------------------------------------------------------

        private static PoolOptions Options()
        {
            string? host = Environment.ProcessPath;
            string dotnet = host != null && Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase) ? host : "dotnet";
            var launch = WorkerLaunch.ForDotnetWorker(WorkerDll, dotnet);
            // Diagnostics: BENCH_WORKER_RUNTIME=none starts workers without the default runtime settings, "K=V;K=V" with these instead.
            string? runtime = Environment.GetEnvironmentVariable("BENCH_WORKER_RUNTIME");
            if (!string.IsNullOrEmpty(runtime))
            {
                launch.RuntimeSettings.Clear();
                if (runtime != "none")
                    foreach (string pair in runtime.Split(';', StringSplitOptions.RemoveEmptyEntries))
                        launch.RuntimeSettings[pair.Split('=')[0]] = pair.Split('=')[1];
            }
            return new PoolOptions(launch) { Size = Workers, Name = "bench" };
        }

        private static WorkerPool NewPool() => new WorkerPool(Options());

        private static MapOptions DoubleOptions(int? chunkSize) =>
            new MapOptions(MethodPayload.Kind, MethodPayload.For(MethodsDll, "ProcessPool.BenchMethods.Work::Double").Encode()) { ChunkSize = chunkSize };

        private static IEnumerable<byte[]> Numbers(long count)
        {
            for (long i = 0; i < count; i++) yield return MethodJson.Encode(i);
        }

        private static void Check(ItemResult item, long expectedSequence)
        {
            if (!item.Succeeded) throw new InvalidDataException($"item {item.Sequence} failed: {item.Error}");
            if (item.Sequence != expectedSequence) throw new InvalidDataException($"result out of order: sequence {item.Sequence}, expected {expectedSequence}");
        }

        private static byte[] Single(ItemResult item)
        {
            byte[]? output = null;
            int n = 0;
            foreach (var data in item.Outputs) { output = data; n++; }
            if (n != 1) throw new InvalidDataException($"item {item.Sequence} produced {n} outputs, expected 1");
            return output!;
        }

        /// <summary>Resident set size from /proc/self/status (VmRSS), the same source the Python peer samples.</summary>
        private static long Rss()
        {
            try
            {
                foreach (string line in File.ReadLines("/proc/self/status"))
                    if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                        return long.Parse(line.Substring(6).Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
            catch (IOException) { }
            return Environment.WorkingSet;
        }

        private static Dictionary<string, object?> Header(string workload, int run, Dictionary<string, object?> fields)
        {
            var line = new Dictionary<string, object?> { ["side"] = "processpool", ["workload"] = workload, ["run"] = run };
            foreach (var pair in fields) line[pair.Key] = pair.Value;
            return line;
        }

        private static readonly object OutputLock = new object();

        internal static void Emit(Dictionary<string, object?> line)
        {
            lock (OutputLock)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(line));
                Console.Out.Flush();
            }
        }

        /// <summary>Parent GC activity over a timed section: collections per generation (a gen2 count includes gen1 and gen0 ones) and total pause.</summary>
        private sealed class GcMeter
        {
            private readonly int _gen0 = GC.CollectionCount(0), _gen1 = GC.CollectionCount(1), _gen2 = GC.CollectionCount(2);
            private readonly TimeSpan _pause = GC.GetTotalPauseDuration();

            public static GcMeter Start() => new GcMeter();

            public (int gen0, int gen1, int gen2, double pauseMs) Stop() =>
                (GC.CollectionCount(0) - _gen0, GC.CollectionCount(1) - _gen1, GC.CollectionCount(2) - _gen2, (GC.GetTotalPauseDuration() - _pause).TotalMilliseconds);
        }

        /// <summary>CPU time (user + system) of the parent and of the pool's workers over a timed section, from /proc.</summary>
        private sealed class CpuMeter
        {
            private readonly WorkerPool _pool;
            private readonly TimeSpan _parent;
            private readonly Dictionary<int, double> _workers;

            private CpuMeter(WorkerPool pool)
            {
                _pool = pool;
                _parent = Process.GetCurrentProcess().TotalProcessorTime;
                _workers = pool.GetWorkerProcessIds().ToDictionary(pid => pid, ProcCpuSeconds);
            }

            public static CpuMeter Start(WorkerPool pool) => new CpuMeter(pool);

            public (double parent, double workers) Stop()
            {
                double parent = (Process.GetCurrentProcess().TotalProcessorTime - _parent).TotalSeconds;
                double workers = 0;
                foreach (int pid in _pool.GetWorkerProcessIds())
                    workers += ProcCpuSeconds(pid) - (_workers.TryGetValue(pid, out double before) ? before : 0);
                return (parent, workers);
            }

            private static double ProcCpuSeconds(int pid)
            {
                try
                {
                    string stat = File.ReadAllText($"/proc/{pid}/stat");
                    string[] fields = stat.Substring(stat.LastIndexOf(')') + 2).Split(' ');
                    // fields[11], fields[12] are utime and stime (fields 14 and 15 of stat), in clock ticks (100 Hz on Linux).
                    return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
                }
                catch (IOException) { return 0; }
            }
        }

        private sealed class ChunkCounter
        {
            private int _count, _max;
            public int Count => Volatile.Read(ref _count);
            public int Max => Volatile.Read(ref _max);

            public void Add(ChunkRecord record)
            {
                Interlocked.Increment(ref _count);
                int seen;
                while ((seen = Volatile.Read(ref _max)) < record.ItemCount && Interlocked.CompareExchange(ref _max, record.ItemCount, seen) != seen) { }
            }
        }

        /// <summary>Kills the run (exit 3) with a diagnostic JSON line when it takes far longer than it should: a hang is reported, not waited out.</summary>
        private sealed class Watchdog : IDisposable
        {
            private readonly Timer _timer;
            private WorkerPool? _pool;
            private MapRun? _map;

            public static Watchdog? Current { get; private set; }

            private Watchdog(string workload, int run, TimeSpan limit)
            {
                _timer = new Timer(_ =>
                {
                    var line = new Dictionary<string, object?> { ["side"] = "processpool", ["workload"] = workload, ["run"] = run, ["error"] = $"watchdog: run exceeded {limit.TotalSeconds} s" };
                    try
                    {
                        if (_map != null)
                        {
                            var p = _map.GetProgress();
                            line["map"] = $"submitted={p.Submitted} completed={p.Completed} taken={p.Taken} finished={p.IsFinished} stopped={_map.IsStopped} fault={_map.Fault?.Message}";
                        }
                        if (_pool != null)
                        {
                            var s = _pool.GetStats();
                            line["pool"] = $"state={s.State} starting={s.Starting} busy={s.Busy} idle={s.Idle} completed={s.ItemsCompleted} started={s.WorkersStarted} lost={s.WorkersLost} maps={s.ActiveMaps}";
                            line["worker_pids"] = string.Join(",", _pool.GetWorkerProcessIds());
                        }
                    }
                    catch (Exception error) { line["diagnostic_error"] = error.Message; }
                    Emit(line);
                    Environment.Exit(3);
                }, null, limit, Timeout.InfiniteTimeSpan);
            }

            public static Watchdog Start(string workload, int run, TimeSpan limit) => Current = new Watchdog(workload, run, limit);

            public void Watch(WorkerPool pool, MapRun map)
            {
                _pool = pool;
                _map = map;
            }

            public void Dispose()
            {
                _timer.Dispose();
                Current = null;
            }
        }
    }
}
