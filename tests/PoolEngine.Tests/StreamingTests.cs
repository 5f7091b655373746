using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    /// <summary>
    /// A long item's records reach the consumer while it runs (<see cref="MapOptions.StreamRecords"/>), in the map's
    /// order, exactly once across re-runs, and within the bound on records held back. Items are step scripts run by
    /// the FakeWorker's "steps" runner; an item that waits for a file the test creates is provably still running.
    /// </summary>
    public sealed class StreamingTests : IDisposable
    {
        private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
        private readonly string _dir = Directory.CreateTempSubdirectory("pp-stream-").FullName;
        private readonly WorkerPool _pool = new WorkerPool(Options(2, FakeLaunch("steps")));

        public StreamingTests() => Assert.True(_pool.WaitForWorkers(Patience));

        public void Dispose()
        {
            _pool.Dispose();
            AssertNoLeaks(_pool);
            Directory.Delete(_dir, recursive: true);
        }

        private string PathOf(string name) => Path.Combine(_dir, name);

        private static MapOptions Steps(Action<MapOptions>? configure = null)
        {
            var options = new MapOptions("steps", Array.Empty<byte>()) { StreamRecords = true, ChunkSize = 1 };
            configure?.Invoke(options);
            return options;
        }

        private MapRun Start(MapOptions options, params string[] items)
        {
            var map = _pool.StartMap(options);
            foreach (var item in items) map.Submit(Encoding.UTF8.GetBytes(item));
            map.CompleteInput();
            return map;
        }

        private static ItemResult Next(MapRun map)
        {
            Assert.True(map.WaitForResult(Patience), "no result came");
            Assert.True(map.TryTake(out var result), "the map finished without another result");
            return result;
        }

        private static string[] Texts(ItemResult result) => result.Records.Select(r => Encoding.UTF8.GetString(r.Data)).ToArray();

        /// <summary>
        /// The next item's results up to its end. Records a long item writes just before it ends may reach the map in a
        /// partial result of their own (the worker's pulse sent them) ahead of the item's final result.
        /// </summary>
        private static (string[] Texts, ItemResult Final) UntilEnd(MapRun map)
        {
            var texts = new List<string>();
            while (true)
            {
                var result = Next(map);
                texts.AddRange(Texts(result));
                if (!result.IsPartial) return (texts.ToArray(), result);
            }
        }

        private static List<string> Drain(MapRun map)
        {
            var texts = new List<string>();
            foreach (var result in map.GetResults()) texts.AddRange(Texts(result));
            return texts;
        }

        [Fact]
        public void Map_LongItem_DeliversRecordsBeforeItEnds()
        {
            using var map = Start(Steps(), $"emit:first;wait-file:{PathOf("go")};emit:second");
            var early = Next(map); // the item waits for a file nobody has made yet: it is running
            Assert.True(early.IsPartial);
            Assert.Equal(new[] { "first" }, Texts(early));
            File.WriteAllText(PathOf("go"), "");
            var (rest, last) = UntilEnd(map);
            Assert.True(last.Succeeded);
            Assert.Equal(new[] { "second" }, rest);
            Assert.False(map.TryTake(out _));
        }

        [Fact]
        public void Map_Ordered_LaterItemsRecordsWaitForEarlierItem()
        {
            using var map = Start(Steps(), $"wait-file:{PathOf("go0")};emit:b0", $"emit:a1;wait-file:{PathOf("go1")};emit:b1");
            // Item 1's first record reaches the map and is held: item 0 has not ended.
            var clock = Stopwatch.StartNew();
            while (map.HeldRecordBytes == 0 && clock.Elapsed < Patience) Thread.Sleep(10);
            Assert.True(map.HeldRecordBytes > 0, "item 1's record never arrived");
            Assert.False(map.TryTake(out _));
            File.WriteAllText(PathOf("go0"), "");
            var (firstTexts, first) = UntilEnd(map);
            Assert.Equal(0L, first.Sequence);
            Assert.Equal(new[] { "b0" }, firstTexts);
            var early = Next(map); // item 1 still waits for its file
            Assert.Equal((1L, true), (early.Sequence, early.IsPartial));
            Assert.Equal(new[] { "a1" }, Texts(early));
            File.WriteAllText(PathOf("go1"), "");
            var (lastTexts, last) = UntilEnd(map);
            Assert.Equal(1L, last.Sequence);
            Assert.Equal(new[] { "b1" }, lastTexts);
        }

        [Fact]
        public void Map_Unordered_DeliversRecordsOfAnyRunningItemAtOnce()
        {
            using var map = Start(Steps(o => o.Ordered = false), $"wait-file:{PathOf("go")};emit:b0", $"emit:a1;wait-file:{PathOf("go")};emit:b1");
            var early = Next(map); // neither item can end before the file exists
            Assert.Equal((1L, true), (early.Sequence, early.IsPartial));
            Assert.Equal(new[] { "a1" }, Texts(early));
            File.WriteAllText(PathOf("go"), "");
            var rest = new List<ItemResult>();
            while (rest.Count(r => !r.IsPartial) < 2) rest.Add(Next(map));
            Assert.Equal(new[] { "b0", "b1" }, rest.OrderBy(r => r.Sequence).SelectMany(Texts));
            Assert.False(map.TryTake(out _));
        }

        [Fact]
        public void Map_WorkerDiesAfterStreaming_ReRunSkipsDeliveredRecords()
        {
            using var map = Start(Steps(), $"emit:r1;emit:r2;wait-file:{PathOf("go")};crash-once:{PathOf("crashed")};emit:r3");
            var early = Next(map);
            Assert.True(early.IsPartial);
            Assert.Equal(new[] { "r1", "r2" }, Texts(early));
            File.WriteAllText(PathOf("go"), ""); // the worker exits; the item runs again alone and emits r1, r2 again
            var (rest, last) = UntilEnd(map);
            Assert.True(last.Succeeded, last.Error?.Message);
            Assert.Equal(2, last.Attempts);
            Assert.Equal(new[] { "r3" }, rest);
        }

        [Fact]
        public void Map_RetryAfterThrowAfterStreaming_SkipsDeliveredRecords()
        {
            using var map = Start(Steps(o => o.RetryCount = 1), $"emit:r1;wait-file:{PathOf("go")};throw-once:{PathOf("thrown")};emit:r2");
            var early = Next(map);
            Assert.Equal(new[] { "r1" }, Texts(early));
            File.WriteAllText(PathOf("go"), "");
            var (rest, last) = UntilEnd(map);
            Assert.True(last.Succeeded, last.Error?.Message);
            Assert.Equal(2, last.Attempts);
            Assert.Equal(new[] { "r2" }, rest);
        }

        [Fact]
        public void Map_ItemTimesOutAfterStreaming_RecordsThenTimeout()
        {
            using var map = Start(Steps(o => o.ItemTimeout = TimeSpan.FromSeconds(2)), "emit:first;sleep:600000");
            var early = Next(map);
            Assert.True(early.IsPartial);
            Assert.Equal(new[] { "first" }, Texts(early));
            var last = Next(map);
            Assert.IsType<ItemTimeoutException>(last.Error);
            Assert.Empty(last.Records);
        }

        [Fact]
        public void Map_NotStreaming_ItemRecordsComeTogetherInItsResult()
        {
            using var map = Start(Steps(o => o.StreamRecords = false), "emit:a;sleep:300;emit:b");
            var results = map.GetResults().ToList();
            Assert.Single(results);
            Assert.False(results[0].IsPartial);
            Assert.Equal(new[] { "a", "b" }, Texts(results[0]));
        }

        /// <summary>
        /// Item 1 streams 200 KB while item 0 (its turn first) waits on another worker: the map holds about the bound,
        /// not everything, because item 1's worker is no longer read; once item 0 ends, every record comes, in order.
        /// </summary>
        [Fact]
        public void Map_Ordered_RecordsHeldForLaterItemStayWithinBound()
        {
            const int bound = 8 * 1024, count = 200, size = 1000;
            using var map = Start(Steps(o => o.MaxHeldRecordBytes = bound),
                $"wait-file:{PathOf("go")};emit:b0", $"sleep:50;emit-many:{count}:{size}:2;emit:end");
            var clock = Stopwatch.StartNew();
            while (map.HeldRecordBytes < bound && clock.Elapsed < Patience) Thread.Sleep(10);
            Assert.True(map.HeldRecordBytes >= bound, "item 1's records never filled the bound");
            Thread.Sleep(1000); // unbounded, the rest (200 KB) would arrive and item 1 end in this time
            long held = map.HeldRecordBytes;
            Assert.Equal(0, map.GetProgress().Completed); // item 1 was stopped by its unread output
            Assert.True(held >= bound && held < bound + 40 * size, $"{held} bytes held with a bound of {bound}");
            File.WriteAllText(PathOf("go"), "");
            var texts = Drain(map);
            Assert.Equal("b0", texts[0]);
            Assert.Equal(Enumerable.Range(0, count).Select(n => n.ToString("D6")), texts.Skip(1).Take(count).Select(t => t.TrimEnd('\0')));
            Assert.Equal(new[] { "end" }, texts.Skip(1 + count));
        }
    }
}
