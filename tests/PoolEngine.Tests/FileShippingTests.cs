using System;
using System.IO;
using System.Linq;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    /// <summary>
    /// Files a payload names (a method's assembly) travel to remote workers as frames and load from the host's cache.
    /// A local worker launch marked with a host name stands in for a remote one: the pool treats it as remote, and
    /// its cache directory is a temp directory of the test's own.
    /// </summary>
    public sealed class FileShippingTests : IDisposable
    {
        private readonly string _cache = Path.Combine(Path.GetTempPath(), "pp-files-" + Guid.NewGuid().ToString("N").Substring(0, 8));

        public void Dispose()
        {
            try { Directory.Delete(_cache, recursive: true); } catch (DirectoryNotFoundException) { }
        }

        private PoolOptions RemoteLikeOptions(int size = 1)
        {
            var launch = WorkerLaunch();
            launch.HostName = "stand-in-host";
            launch.Environment["XDG_CACHE_HOME"] = _cache;
            return new PoolOptions(new[] { new WorkerGroup(launch, size) }) { Name = "files", ShutdownTimeout = TimeSpan.FromSeconds(5) };
        }

        private string CachedCopy(ShippedFile file) => Path.Combine(_cache, "ProcessPool", "files", file.HashHex, file.Name);

        [Fact]
        public void RemoteWorker_MethodAssembly_IsShippedAndLoadedFromTheHostCache()
        {
            var file = ShippedFile.Read(MethodsDll);
            WithPool(RemoteLikeOptions(2), pool =>
            {
                var options = Method("AssemblyLocation", o => o.ChunkSize = 1);
                options.Files.Add(file);
                var where = Run(pool, Enumerable.Range(0, 10), options).Select(Decode<string>).Distinct().ToList();
                Assert.Equal(new[] { CachedCopy(file) }, where);
                Assert.Equal(File.ReadAllBytes(MethodsDll), File.ReadAllBytes(CachedCopy(file)));
            });
        }

        [Fact]
        public void RemoteWorker_IntactCachedCopy_IsNotWrittenAgain_DamagedOneIsReplaced()
        {
            var file = ShippedFile.Read(MethodsDll);
            var options = Method("Double");
            options.Files.Add(file);
            WithPool(RemoteLikeOptions(), pool => Assert.Equal(new[] { 2, 4 }, Run(pool, new[] { 1, 2 }, options).Select(Decode<int>)));
            var written = File.GetLastWriteTimeUtc(CachedCopy(file));
            var stamp = written.AddMinutes(-5);
            File.SetLastWriteTimeUtc(CachedCopy(file), stamp);

            WithPool(RemoteLikeOptions(), pool => Assert.Equal(new[] { 6 }, Run(pool, new[] { 3 }, options).Select(Decode<int>)));
            Assert.Equal(stamp, File.GetLastWriteTimeUtc(CachedCopy(file)));

            File.WriteAllBytes(CachedCopy(file), new byte[] { 1, 2, 3 });
            WithPool(RemoteLikeOptions(), pool => Assert.Equal(new[] { 8 }, Run(pool, new[] { 4 }, options).Select(Decode<int>)));
            Assert.Equal(File.ReadAllBytes(MethodsDll), File.ReadAllBytes(CachedCopy(file)));
        }

        [Fact]
        public void LocalWorker_LoadsThePathItself_NothingIsCached()
        {
            var options = Method("AssemblyLocation");
            options.Files.Add(ShippedFile.Read(MethodsDll));
            WithPool(Options(1), pool => Assert.Equal(MethodsDll, Decode<string>(Run(pool, new[] { 1 }, options).Single())));
            Assert.False(Directory.Exists(_cache));
        }
    }
}
