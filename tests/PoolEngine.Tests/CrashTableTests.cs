using System;
using System.Collections.Generic;
using System.Linq;
using ProcessPool.TestMethods;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    /// <summary>
    /// The crash-case table: each way a worker can fail, the error it must give, proof the other items completed,
    /// and proof no process leaked. Items are 0..19 with the poison value in the middle.
    /// </summary>
    public sealed class CrashTableTests
    {
        private static readonly int[] Input = Enumerable.Range(0, 20).ToArray();

        public static IEnumerable<object[]> PoisonCases() => new[]
        {
            // method, chunk size, expected exception type, text the message must carry
            new object[] { "ExitOn", 5, typeof(WorkerTerminatedException), "exit code 42" },
            new object[] { "KillSelfOn", 5, typeof(WorkerTerminatedException), "SIGKILL" },
            new object[] { "ThrowIfNegative", 5, typeof(RemoteItemException), "negative" },
            new object[] { "HangOn", 5, typeof(ItemTimeoutException), "ran longer than 1 s" },
        };

        [Theory]
        [MemberData(nameof(PoisonCases))]
        public void PoisonItem_FailsAlone_OthersComplete_NoLeak(string method, int chunkSize, Type errorType, string message)
        {
            WithPool(Options(2), pool =>
            {
                var input = method == "ThrowIfNegative" ? Input.Select(x => x == Payloads.Poison ? -1 : x).ToArray() : Input;
                // Only the hanging case needs an item timeout; elsewhere it would only add a way to fail under load.
                var results = Run(pool, input, Method(method, o => { o.ChunkSize = chunkSize; if (method == "HangOn") o.ItemTimeout = TimeSpan.FromSeconds(1); }));

                Assert.Equal(Input.Length, results.Count);
                var failed = Assert.Single(results, r => !r.Succeeded);
                Assert.Equal(Payloads.Poison, failed.Sequence);
                Assert.IsType(errorType, failed.Error);
                Assert.Contains(message, failed.Error!.Message);
                foreach (var ok in results.Where(r => r.Succeeded))
                {
                    int x = Input[ok.Sequence];
                    Assert.Equal(method == "ThrowIfNegative" ? x : 2 * x, Decode<int>(ok));
                }
                // The pool is still usable afterwards.
                Assert.Equal(new[] { 2, 4 }, Run(pool, new[] { 1, 2 }, Method("Double")).Select(Decode<int>));
            });
        }

        [Fact]
        public void CrashingWorker_ExitCode_IsReportedWithSignalNull()
        {
            using var pool = new WorkerPool(Options(1));
            var failed = Run(pool, new[] { Payloads.Poison }, Method("ExitOn")).Single();
            var error = Assert.IsType<WorkerTerminatedException>(failed.Error);
            Assert.Equal(42, error.ExitCode);
            Assert.Null(error.Signal);
            Assert.Equal(2, failed.Attempts);
        }

        [Fact]
        public void KilledBySignal_ReportsSignalNine()
        {
            using var pool = new WorkerPool(Options(1));
            var error = Assert.IsType<WorkerTerminatedException>(Run(pool, new[] { Payloads.Poison }, Method("KillSelfOn")).Single().Error);
            Assert.Equal(9, error.Signal);
        }

        [Fact]
        public void ItemTimeout_KillsAndReplacesWorker_OnlyThatItemFails()
        {
            WithPool(Options(1), pool =>
            {
                Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(30)));
                var before = pool.GetWorkerProcessIds().Single();
                var results = Run(pool, new[] { 1, Payloads.Poison, 2 }, Method("HangOn", o => { o.ItemTimeout = TimeSpan.FromMilliseconds(500); o.ChunkSize = 3; }));
                Assert.Equal(new[] { true, false, true }, results.Select(r => r.Succeeded));
                var timeout = Assert.IsType<ItemTimeoutException>(results[1].Error);
                Assert.Equal(TimeSpan.FromMilliseconds(500), timeout.Timeout);
                Assert.True(Eventually(() => !IsAlive(before)));
                Assert.DoesNotContain(before, pool.GetWorkerProcessIds());
            });
        }

        [Fact]
        public void UserCodeWritingToStdout_DoesNotCorruptTheProtocol()
        {
            WithPool(Options(2), pool =>
            {
                var output = new List<string>();
                pool.EventRaised += (_, e) => { if (e.Kind == PoolEventKind.WorkerOutput) lock (output) output.Add(e.Message); };
                var results = Run(pool, Enumerable.Range(0, 10), Method("Noisy", o => o.ChunkSize = 2));
                Assert.Equal(Enumerable.Range(0, 10).Select(x => 2 * x), results.Select(Decode<int>));
                Assert.Equal(0, pool.GetStats().WorkersLost);
                // What user code printed went to the worker's stderr, which the pool surfaces as events.
                Assert.True(Eventually(() => { lock (output) return output.Any(m => m.Contains("garbage from a child process")); }));
                Assert.Contains(output, m => m.Contains("garbage from Console.WriteLine"));
            });
        }

        public static IEnumerable<object[]> BrokenProtocolCases() => new[]
        {
            new object[] { "garbage-after-ready", "Malformed frame" },
            new object[] { "truncated", "Truncated frame" },
            new object[] { "oversized", "Oversized frame" },
        };

        [Theory]
        [MemberData(nameof(BrokenProtocolCases))]
        public void WorkerBreakingProtocol_IsReplaced_ItemFailsWithProtocolCause(string mode, string cause)
        {
            WithPool(Options(1, FakeLaunch(mode)), pool =>
            {
                var lost = new List<string>();
                pool.EventRaised += (_, e) => { if (e.Kind == PoolEventKind.WorkerLost) lock (lost) lost.Add(e.Message); };
                var result = Run(pool, new[] { 1 }, Method("Double")).Single();
                var error = Assert.IsType<WorkerTerminatedException>(result.Error);
                Assert.Contains(cause, error.Message);
                Assert.True(Eventually(() => { lock (lost) return lost.Count >= 2; }));
                Assert.Contains(cause, lost[0]);
            });
        }

        public static IEnumerable<object[]> StartFailureCases() => new[]
        {
            new object[] { "garbage", "is not a ProcessPool hello" },
            new object[] { "bad-version", "protocol version 99" },
        };

        [Theory]
        [MemberData(nameof(StartFailureCases))]
        public void WorkerFailingHandshake_BreaksThePoolWithTheReason(string mode, string reason)
        {
            WithPool(Options(2, FakeLaunch(mode)), pool =>
            {
                var map = pool.StartMap(Method("Double"), Encode(new[] { 1 }));
                var error = Assert.Throws<BrokenPoolException>(() => map.GetResults().ToList());
                Assert.Contains(reason, error.Message);
                Assert.Throws<BrokenPoolException>(() => pool.StartMap(Method("Double")));
            });
        }

        [Fact]
        public void WorkerThatNeverSaysHello_IsKilledAfterStartTimeout()
        {
            var options = Options(1, FakeLaunch("silent"));
            options.StartTimeout = TimeSpan.FromSeconds(1);
            WithPool(options, pool =>
            {
                var map = pool.StartMap(Method("Double"), Encode(new[] { 1 }));
                var error = Assert.Throws<BrokenPoolException>(() => map.GetResults().ToList());
                Assert.Contains("Handshake failed", error.Message);
            });
        }

        [Fact]
        public void MissingExecutable_BreaksThePoolAtOnce()
        {
            using var pool = new WorkerPool(Options(2, new WorkerLaunch("/nonexistent/processpool-worker")));
            var error = Assert.Throws<BrokenPoolException>(() => pool.WaitForWorkers(TimeSpan.FromSeconds(30)));
            Assert.Contains("/nonexistent/processpool-worker", error.Message);
            Assert.Equal(PoolState.Broken, pool.State);
        }

        [Fact]
        public void FailingInitializer_BreaksThePoolWithTheInitializersError()
        {
            var options = Options(2);
            options.RunnerSetup[Methods.MethodPayload.Kind] = new Methods.MethodSetup
            {
                AssemblyPath = MethodsDll,
                Initializer = "ProcessPool.TestMethods.Payloads::FailInit",
                InitializerArguments = "[\"no database\"]",
            }.Encode();
            WithPool(options, pool =>
            {
                var map = pool.StartMap(Method("Double"), Encode(new[] { 1 }));
                var error = Assert.Throws<BrokenPoolException>(() => map.GetResults().ToList());
                Assert.Contains("initializer refused: no database", error.Message);
                var remote = Assert.IsType<RemoteItemException>(error.InnerException);
                Assert.Equal(typeof(InvalidOperationException).FullName, remote.RemoteType);
            });
        }

        [Fact]
        public void MemoryCeiling_RecyclesTheWorkerBetweenChunks_ResultsIntact()
        {
            var options = Options(1);
            options.MaxWorkerMemoryBytes = 150L * 1024 * 1024;
            WithPool(options, pool =>
            {
                var recycled = new List<string>();
                pool.EventRaised += (_, e) => { if (e.Kind == PoolEventKind.WorkerRecycled) lock (recycled) recycled.Add(e.Message); };
                // Each item hoards 64 MB more: the worker crosses 150 MB within a few items and must be replaced.
                var results = Run(pool, Enumerable.Repeat(64, 6), Method("Hoard", o => o.ChunkSize = 1));
                Assert.All(results, r => Assert.True(r.Succeeded));
                Assert.True(results.Select(Decode<int>).Max() < 6, "a fresh worker must have started with an empty hoard");
                Assert.Contains(recycled, m => m.Contains("working set"));
            });
        }

        [Fact]
        public void MemoryCeiling_WorkerOverItAfterAChunk_RunsNoChunkQueuedBehindIt()
        {
            // A ceiling of one byte: every worker is over it after its first chunk. A worker holds its running chunk
            // and a prefetched one; it used to run that one too before it retired.
            var options = Options(1);
            options.MaxWorkerMemoryBytes = 1;
            WithPool(options, pool =>
            {
                var results = Run(pool, Enumerable.Range(0, 6), Method("WhoAmI", o => o.ChunkSize = 1));
                var served = results.Select(Decode<int[]>).ToList();
                Assert.All(served, r => Assert.Equal(1, r[1]));
                Assert.Equal(6, served.Select(r => r[0]).Distinct().Count());
                Assert.Equal(0, pool.GetStats().WorkersLost);
            });
        }
    }
}
