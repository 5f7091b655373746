using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ProcessPool.Engine.Methods;
using ProcessPool.TestMethods;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    public sealed class MapTests : IDisposable
    {
        private readonly WorkerPool _pool = new WorkerPool(Options(2));

        public void Dispose()
        {
            _pool.Dispose();
            AssertNoLeaks(_pool);
        }

        [Fact]
        public void Map_Ordered_ResultsEqualSerialInInputOrder()
        {
            var input = Enumerable.Range(0, 5000).ToList();
            var results = Run(_pool, input, Method("Double"));
            Assert.Equal(input.Select(x => 2 * x), results.Select(Decode<int>));
            Assert.Equal(Enumerable.Range(0, 5000).Select(i => (long)i), results.Select(r => r.Sequence));
            Assert.All(results, r => Assert.True(r.Succeeded));
        }

        [Fact]
        public void Map_Unordered_DeliversEveryItemOnceAsCompleted()
        {
            // Slow items first: an unordered map must not hold the fast ones back behind them.
            var input = new[] { 300, 300, 1, 1, 1, 1, 1, 1 };
            var results = Run(_pool, input, Method("SleepMs", o => { o.Ordered = false; o.ChunkSize = 1; }));
            Assert.Equal(input.OrderBy(x => x), results.Select(Decode<int>).OrderBy(x => x));
            Assert.Equal(1, Decode<int>(results[0]));
            Assert.Equal(input.Length, results.Select(r => r.Sequence).Distinct().Count());
        }

        [Fact]
        public void Map_WorkersAreReusedAcrossMaps()
        {
            var first = Run(_pool, Enumerable.Range(0, 200), Method("WhoAmI", o => o.ChunkSize = 10)).Select(Decode<int[]>).ToList();
            var second = Run(_pool, Enumerable.Range(0, 200), Method("WhoAmI", o => o.ChunkSize = 10)).Select(Decode<int[]>).ToList();
            var pids = first.Concat(second).Select(r => r[0]).Distinct().ToList();
            Assert.InRange(pids.Count, 1, 2);
            Assert.Equal(400, first.Concat(second).GroupBy(r => r[0]).Sum(g => g.Max(r => r[1])));
        }

        [Fact]
        public void Map_Finished_WorkersAlreadyToldToReleaseIt()
        {
            // The next map must reach every worker behind this one's release (which resets a script worker's state).
            for (int i = 0; i < 300; i++)
            {
                using var map = _pool.StartMap(Method("Double"), Encode(new[] { i }));
                Assert.Equal(new[] { 2 * i }, map.GetResults().Select(Decode<int>));
                Assert.True(map.IsFinished);
                Assert.Equal(0, _pool.GetStats().ActiveMaps);
            }
        }

        [Fact]
        public void Wait_ThenTakeAvailable_MapIsFinished()
        {
            // Wait returns only once the pool let go of the map, not merely once the last result arrived.
            for (int i = 0; i < 300; i++)
            {
                using var map = _pool.StartMap(Method("Double"), Encode(new[] { i }));
                Assert.True(map.Wait(TimeSpan.FromSeconds(30)));
                Assert.Single(map.TakeAvailable());
                Assert.True(map.IsFinished);
            }
        }

        [Fact]
        public void Map_ProducerFasterThanFirstResult_ItemsWaitForSizedChunks()
        {
            // All 2,000 items arrive before the first chunk is measured: they must not each become a one-item chunk
            // (the per-chunk cost would then dominate), but be cut as workers take them, at the measured size.
            var counts = new List<int>();
            var options = Method("ShaChain", o => o.ChunkCompleted = r => { lock (counts) counts.Add(r.ItemCount); });
            using var map = _pool.StartMap(options);
            for (int i = 0; i < 2000; i++) map.Submit(MethodJson.Encode(200 + i % 7));
            map.CompleteInput();
            var results = map.GetResults().ToList();
            Assert.Equal(Enumerable.Range(0, 2000).Select(i => Payloads.ShaChain(200 + i % 7)), results.Select(Decode<string>));
            Assert.True(Eventually(() => { lock (counts) return counts.Sum() == 2000; }));
            lock (counts) Assert.InRange(counts.Count, 2, 200);
        }

        [Fact]
        public void Map_VoidAndTaskMethods_YieldZeroOutputsPerItem()
        {
            Assert.All(Run(_pool, new[] { 1, 2, 3 }, Method("Nothing")), r => Assert.Empty(r.Records));
            Assert.All(Run(_pool, new[] { 1, 2, 3 }, Method("NothingAsync")), r => Assert.Empty(r.Records));
        }

        [Fact]
        public void Map_TaskOfT_AwaitsAndReturnsResult()
        {
            Assert.Equal(new[] { 2, 4, 6 }, Run(_pool, new[] { 1, 2, 3 }, Method("DoubleAsync")).Select(Decode<int>));
        }

        [Fact]
        public void Map_SeveralParameters_SpreadsArrayItems()
        {
            var pairs = new[] { new[] { 1, 2 }, new[] { 40, 2 } };
            Assert.Equal(new[] { 3, 42 }, Run(_pool, pairs, Method("Add")).Select(Decode<int>));
        }

        [Fact]
        public void Map_StructWithFields_RoundTripsThroughJson()
        {
            var result = Run(_pool, new[] { new Point { X = 1, Y = 2 } }, Method("Mirror")).Single();
            var point = Decode<Point>(result);
            Assert.Equal((2, 1), (point.X, point.Y));
        }

        [Fact]
        public void Map_ItemThatDoesNotDeserialize_FailsAloneWithJsonError()
        {
            var items = new[] { MethodJson.Encode(1), MethodJson.Encode("not a number"), MethodJson.Encode(3) };
            var results = _pool.Map(items, Method("Double")).ToList();
            Assert.Equal(2, Decode<int>(results[0]));
            Assert.Equal(6, Decode<int>(results[2]));
            var error = Assert.IsType<RemoteItemException>(results[1].Error);
            Assert.Equal("System.Text.Json.JsonException", error.RemoteType);
            Assert.Contains("parameter 'x'", error.RemoteMessage);
        }

        [Fact]
        public void Map_ItemThatThrows_ReportsRemoteTypeMessageAndStack_OthersComplete()
        {
            var results = Run(_pool, new[] { 1, -2, 3 }, Method("ThrowIfNegative", o => o.ChunkSize = 3));
            Assert.True(results[0].Succeeded);
            Assert.True(results[2].Succeeded);
            var error = Assert.IsType<RemoteItemException>(results[1].Error);
            Assert.Equal(typeof(ArgumentOutOfRangeException).FullName, error.RemoteType);
            Assert.Contains("negative: -2", error.RemoteMessage);
            Assert.Contains("ThrowIfNegative", error.RemoteStackTrace);
            Assert.Equal(1, results[1].Attempts);
        }

        [Fact]
        public void Map_RetryCount_RunsAFailingItemAgain()
        {
            var result = Run(_pool, new[] { -1 }, Method("ThrowIfNegative", o => o.RetryCount = 2)).Single();
            Assert.False(result.Succeeded);
            Assert.Equal(3, result.Attempts);
        }

        [Fact]
        public void Map_StreamsResultsBeforeInputCompletes()
        {
            using var map = _pool.StartMap(Method("Double"));
            map.Submit(MethodJson.Encode(21));
            Assert.True(map.WaitForResult(TimeSpan.FromSeconds(30)));
            Assert.True(map.TryTake(out var result));
            Assert.Equal(42, Decode<int>(result));
            Assert.False(map.IsFinished);
            map.CompleteInput();
            Assert.True(map.WaitForResult(TimeSpan.FromSeconds(30)));
            Assert.True(map.IsFinished);
        }

        [Fact]
        public void Submit_ConsumerNotTaking_BlocksAtCapacity()
        {
            using var map = _pool.StartMap(Method("Double", o => { o.MaxItemsInFlight = 64; o.ChunkSize = 4; }));
            int submitted = 0;
            while (map.TrySubmit(MethodJson.Encode(submitted), null, TimeSpan.FromMilliseconds(200))) submitted++;
            Assert.Equal(64, submitted);
            Assert.True(Eventually(() => map.GetProgress().Completed == 64));
            Assert.False(map.TrySubmit(MethodJson.Encode(0), null, TimeSpan.FromMilliseconds(100)));
            Assert.True(map.TryTake(out _));
            Assert.True(map.TrySubmit(MethodJson.Encode(1), null, TimeSpan.FromSeconds(30)));
            map.Cancel();
        }

        [Fact]
        public void StartMap_BoundReached_FeederRefillsOnceAnEighthIsFree()
        {
            using var map = _pool.StartMap(Method("Double", o => { o.MaxItemsInFlight = 64; o.ChunkSize = 4; }), Encode(Enumerable.Range(0, 10_000)));
            Assert.True(Eventually(() => map.GetProgress().Completed == 64));
            Assert.Equal(64, map.GetProgress().Submitted);
            // Seven results taken free seven slots: less than an eighth of 64, so the feeder goes on waiting.
            for (int i = 0; i < 7; i++) Assert.True(map.TryTake(out _));
            Thread.Sleep(300);
            Assert.Equal(64, map.GetProgress().Submitted);
            // The eighth frees the room it waits for: it must wake and fill it (a lost wake-up would stall the map here).
            Assert.True(map.TryTake(out _));
            Assert.True(Eventually(() => map.GetProgress().Submitted == 72));
            var rest = new List<int>();
            foreach (var result in map.GetResults()) rest.Add(Decode<int>(result));
            Assert.Equal(Enumerable.Range(8, 10_000 - 8).Select(i => 2 * i), rest);
        }

        [Fact]
        public void StartMap_AsyncHandle_CountsWaitsAndTakes()
        {
            using var map = _pool.StartMap(Method("ThrowIfNegative"), Encode(new[] { 1, -1, 2, -2, 3 }));
            Assert.True(map.Wait(TimeSpan.FromSeconds(30)));
            var progress = map.GetProgress();
            Assert.Equal((5L, 3L, 2L, 0L), (progress.Completed, progress.Succeeded, progress.Failed, progress.InFlight));
            Assert.Equal(100, progress.PercentComplete);
            var taken = map.TakeAvailable();
            Assert.Equal(5, taken.Count);
            Assert.True(map.IsFinished);
        }

        [Fact]
        public void Cancel_StopsTheMap_KillsBusyWorkers_PoolStaysUsable()
        {
            var map = _pool.StartMap(Method("SleepMs", o => o.ChunkSize = 1), Encode(Enumerable.Repeat(60_000, 4)));
            Assert.True(Eventually(() => _pool.GetStats().Busy == 2));
            var busy = _pool.GetWorkerProcessIds();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            map.Cancel();
            Assert.Throws<OperationCanceledException>(() => map.GetResults().ToList());
            Assert.True(Eventually(() => busy.All(pid => !IsAlive(pid)), 10));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
            Assert.Equal(new[] { 2, 4 }, Run(_pool, new[] { 1, 2 }, Method("Double")).Select(Decode<int>));
        }

        [Fact]
        public void RunTimeout_StopsTheMapWithPoolTimeoutException()
        {
            var map = _pool.StartMap(Method("SleepMs", o => { o.RunTimeout = TimeSpan.FromMilliseconds(500); o.ChunkSize = 1; }), Encode(Enumerable.Repeat(30_000, 2)));
            var error = Assert.Throws<PoolTimeoutException>(() => map.GetResults().ToList());
            Assert.Equal(TimeSpan.FromMilliseconds(500), error.Timeout);
        }

        [Fact]
        public void SeveralMaps_ShareOnePoolConcurrently()
        {
            var maps = Enumerable.Range(1, 4).Select(k => (k, map: _pool.StartMap(Method("Double"), Encode(Enumerable.Range(0, 1000).Select(x => x * k))))).ToList();
            foreach (var (k, map) in maps)
                Assert.Equal(Enumerable.Range(0, 1000).Select(x => 2 * x * k), map.GetResults().Select(Decode<int>));
        }

        [Fact]
        public void ChunkCompleted_ReportsWorkerPidAndSizes()
        {
            var records = new List<ChunkRecord>();
            Run(_pool, Enumerable.Range(0, 100), Method("Double", o => { o.ChunkSize = 10; o.ChunkCompleted = r => { lock (records) records.Add(r); }; }));
            // A chunk's record trails its last result slightly, so wait for it rather than read at once.
            Assert.True(Eventually(() => { lock (records) return records.Sum(r => r.ItemCount) == 100; }));
            Assert.All(records, r => Assert.Contains(r.ProcessId, _pool.GetAllStartedProcessIds()));
        }
    }
}
