using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using ProcessPool.Engine.Methods;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    /// <summary>
    /// The method finalizer runs on every clean retirement of a worker (idle time, task limit, memory ceiling, pool
    /// close or dispose); one that throws or hangs is reported as a <see cref="PoolEventKind.FinalizerFailed"/> event
    /// naming the worker, and never holds up the pool or its shutdown for longer than the shutdown timeout.
    /// </summary>
    public sealed class FinalizerTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("processpool-finalizer-").FullName;
        private readonly List<PoolEvent> _events = new List<PoolEvent>();

        public void Dispose() => Directory.Delete(_dir, true);

        public enum Retirement { IdleTimeout, TaskLimit, MemoryCeiling, Close, Dispose }

        [Theory]
        [InlineData(Retirement.IdleTimeout)]
        [InlineData(Retirement.TaskLimit)]
        [InlineData(Retirement.MemoryCeiling)]
        [InlineData(Retirement.Close)]
        [InlineData(Retirement.Dispose)]
        public void Finalizer_RunsOnEveryCleanRetirement(Retirement path)
        {
            Retire(path, "WriteMarker", new[] { _dir }, (pool, pid) =>
            {
                Assert.True(Eventually(() => File.Exists(Path.Combine(_dir, "finalized-" + pid))), $"no finalizer marker for pid {pid}");
                Assert.True(Eventually(() => Events(PoolEventKind.WorkerExited).Any(e => e.ProcessId == pid)));
                Assert.Empty(Events(PoolEventKind.FinalizerFailed));
            });
        }

        [Theory]
        [InlineData(Retirement.IdleTimeout)]
        [InlineData(Retirement.TaskLimit)]
        [InlineData(Retirement.Close)]
        public void Finalizer_Throws_ReportedAsFinalizerFailedNamingTheWorker(Retirement path)
        {
            Retire(path, "FailFinalizer", new[] { "disk full" }, (pool, pid) =>
            {
                Assert.True(Eventually(() => Events(PoolEventKind.FinalizerFailed).Any(e => e.ProcessId == pid)));
                var failure = Events(PoolEventKind.FinalizerFailed).Single(e => e.ProcessId == pid);
                Assert.Contains($"(pid {pid})", failure.Message);
                Assert.Contains("finalizer refused: disk full", failure.Message);
                Assert.Contains("InvalidOperationException", failure.Message);
            });
        }

        [Theory]
        [InlineData(Retirement.IdleTimeout)]
        [InlineData(Retirement.TaskLimit)]
        [InlineData(Retirement.Close)]
        [InlineData(Retirement.Dispose)]
        public void Finalizer_Hangs_WorkerKilledAfterShutdownTimeout_AndReported(Retirement path)
        {
            Retire(path, "HangFinalizer", Array.Empty<string>(), (pool, pid) =>
            {
                Assert.True(Eventually(() => Events(PoolEventKind.FinalizerFailed).Any(e => e.ProcessId == pid)));
                Assert.Contains($"(pid {pid}) did not exit within 0.5 s", Events(PoolEventKind.FinalizerFailed).Single(e => e.ProcessId == pid).Message);
                Assert.True(Eventually(() => !IsAlive(pid)));
            }, shutdownTimeout: TimeSpan.FromMilliseconds(500));
        }

        [Fact]
        public void Close_FinalizerHangs_ReturnsWithinTheShutdownTimeoutNotTheCloseTimeout()
        {
            var options = WithFinalizer("HangFinalizer", Array.Empty<string>(), TimeSpan.FromMilliseconds(500));
            var pool = new WorkerPool(options);
            try
            {
                Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(30)));
                var clock = Stopwatch.StartNew();
                pool.Close(TimeSpan.FromMinutes(10));
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"Close took {clock.Elapsed}");
                Assert.Equal(PoolState.Closed, pool.State);
            }
            finally
            {
                pool.Dispose();
            }
            AssertNoLeaks(pool);
        }

        /// <summary>Starts a one-worker pool with the finalizer, retires its worker the given way, runs <paramref name="check"/> on that worker's pid, and (where the pool lives on) checks that it still serves.</summary>
        private void Retire(Retirement path, string finalizer, string[] arguments, Action<WorkerPool, int> check, TimeSpan? shutdownTimeout = null)
        {
            var options = WithFinalizer(finalizer, arguments, shutdownTimeout ?? TimeSpan.FromSeconds(5));
            switch (path)
            {
                case Retirement.IdleTimeout: options.IdleTimeout = TimeSpan.FromMilliseconds(300); break;
                case Retirement.TaskLimit: options.MaxTasksPerWorker = 1; break;
                case Retirement.MemoryCeiling: options.MaxWorkerMemoryBytes = 1; break; // every worker is over it after its first chunk
            }
            var pool = new WorkerPool(options);
            pool.EventRaised += (_, e) => { lock (_events) _events.Add(e); };
            try
            {
                Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(30)));
                int pid = pool.GetWorkerProcessIds().Single();
                switch (path)
                {
                    case Retirement.TaskLimit:
                    case Retirement.MemoryCeiling:
                        Assert.Equal(pid, Decode<int>(Run(pool, new[] { 1 }, Method("Pid")).Single()));
                        break;
                    case Retirement.Close:
                        pool.Close(TimeSpan.FromSeconds(60));
                        break;
                    case Retirement.Dispose:
                        pool.Dispose();
                        break;
                }
                check(pool, pid);
                if (path != Retirement.Close && path != Retirement.Dispose)
                    Assert.Equal(new[] { 2, 4 }, Run(pool, new[] { 1, 2 }, Method("Double")).Select(Decode<int>));
            }
            finally
            {
                pool.Dispose();
            }
            AssertNoLeaks(pool);
        }

        private PoolOptions WithFinalizer(string finalizer, string[] arguments, TimeSpan shutdownTimeout)
        {
            var options = Options(1);
            options.ShutdownTimeout = shutdownTimeout;
            options.RunnerSetup[MethodPayload.Kind] = new MethodSetup
            {
                AssemblyPath = MethodsDll,
                Finalizer = "ProcessPool.TestMethods.Payloads::" + finalizer,
                FinalizerArguments = JsonSerializer.Serialize(arguments),
            }.Encode();
            return options;
        }

        private List<PoolEvent> Events(PoolEventKind kind)
        {
            lock (_events) return _events.Where(e => e.Kind == kind).ToList();
        }
    }
}
