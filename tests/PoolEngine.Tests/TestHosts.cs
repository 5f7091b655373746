using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using ProcessPool.Engine.Methods;
using Xunit;

namespace ProcessPool.Engine.Tests
{
    /// <summary>Where the real worker processes the tests start live, and helpers to build pools and maps on them.</summary>
    internal static class TestHosts
    {
        public static readonly string Dir = AppContext.BaseDirectory;
        public static readonly string WorkerDll = Path.Combine(Dir, "ProcessPool.Worker.dll");
        public static readonly string MethodsDll = Path.Combine(Dir, "ProcessPool.TestMethods.dll");
        public static readonly string FakeWorkerDll = Path.Combine(Dir, "ProcessPool.FakeWorker.dll");
        public static readonly string Dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

        public static WorkerLaunch WorkerLaunch() => ProcessPool.Engine.WorkerLaunch.ForDotnetWorker(WorkerDll, Dotnet);

        public static WorkerLaunch FakeLaunch(string mode) => new WorkerLaunch(Dotnet, new[] { "exec", FakeWorkerDll, mode });

        public static PoolOptions Options(int size = 2, WorkerLaunch? launch = null) =>
            new PoolOptions(launch ?? WorkerLaunch()) { Size = size, Name = "test", ShutdownTimeout = TimeSpan.FromSeconds(5) };

        public static MapOptions Method(string name, Action<MapOptions>? configure = null)
        {
            var options = new MapOptions(MethodPayload.Kind, MethodPayload.For(MethodsDll, "ProcessPool.TestMethods.Payloads::" + name).Encode());
            configure?.Invoke(options);
            return options;
        }

        public static IEnumerable<byte[]> Encode<T>(IEnumerable<T> values) => values.Select(v => MethodJson.Encode(v));

        public static T Decode<T>(ItemResult result) => MethodJson.Decode<T>(result.Outputs.Single())!;

        public static List<ItemResult> Run<T>(WorkerPool pool, IEnumerable<T> items, MapOptions options) =>
            pool.Map(Encode(items), options).ToList();

        /// <summary>True while the process exists and is not a zombie (a zombie is a process nobody reaped: also a leak).</summary>
        public static bool IsAlive(int pid)
        {
            string stat = $"/proc/{pid}/stat";
            if (OperatingSystem.IsLinux()) return File.Exists(stat);
            try { return !Process.GetProcessById(pid).HasExited; } catch (ArgumentException) { return false; }
        }

        /// <summary>Runs <paramref name="test"/> on a new pool, disposes it, then asserts it left no process behind.</summary>
        public static void WithPool(PoolOptions options, Action<WorkerPool> test)
        {
            var pool = new WorkerPool(options);
            try { test(pool); }
            finally { pool.Dispose(); }
            AssertNoLeaks(pool);
        }

        /// <summary>Asserts every process the pool ever started is gone (and reaped) within a generous bound.</summary>
        public static void AssertNoLeaks(WorkerPool pool, int seconds = 15)
        {
            var pids = pool.GetAllStartedProcessIds();
            Assert.NotEmpty(pids);
            var clock = Stopwatch.StartNew();
            while (pids.Any(IsAlive) && clock.Elapsed < TimeSpan.FromSeconds(seconds)) Thread.Sleep(20);
            Assert.DoesNotContain(pids, IsAlive);
        }

        /// <summary>Polls a condition with a generous bound: tests wait on events, never a fixed sleep.</summary>
        public static bool Eventually(Func<bool> condition, int seconds = 30)
        {
            var clock = Stopwatch.StartNew();
            while (!condition())
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(seconds)) return false;
                Thread.Sleep(10);
            }
            return true;
        }
    }
}
