using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace ProcessPool.Engine
{
    /// <summary>
    /// Files shipped to a remote worker over its stdin, content-addressed so that a host keeps them in a cache and
    /// receives them only once per version. The remote bootstrap (fixed code, carrying <see cref="Hash"/>) answers
    /// one line, <c>PPBOOT1 HAVE</c> or <c>PPBOOT1 NEED</c>; on NEED the bundle follows:
    /// <code>
    /// u32 count, then per file: u32 name length, UTF-8 name, u32 length, 32-byte SHA-256, bytes   (little-endian)
    /// </code>
    /// The bundle hash is SHA-256 over, for each file in ordinal name order, its UTF-8 name, a zero byte and its SHA-256;
    /// the bootstrap checks every file and the bundle against it before it uses the cache.
    /// </summary>
    public sealed class FileBundle : IWorkerPreamble
    {
        /// <summary>Longest run of unrelated output (say, a login script's greeting) skipped before the bootstrap's answer.</summary>
        public const int MaxNoiseBytes = 64 * 1024;

        private const string Marker = "PPBOOT1 ";
        private readonly List<(string Name, byte[] Bytes, byte[] Hash)> _files;

        /// <summary>Reads the files at <paramref name="paths"/> (file names must differ).</summary>
        public FileBundle(IEnumerable<string> paths)
        {
            using var sha = SHA256.Create();
            _files = paths
                .Select(p => (Name: Path.GetFileName(p), Bytes: File.ReadAllBytes(p)))
                .OrderBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => (f.Name, f.Bytes, sha.ComputeHash(f.Bytes)))
                .ToList();
            using var all = new MemoryStream();
            foreach (var file in _files)
            {
                byte[] name = Encoding.UTF8.GetBytes(file.Name);
                all.Write(name, 0, name.Length);
                all.WriteByte(0);
                all.Write(file.Hash, 0, file.Hash.Length);
            }
            Hash = Hex(sha.ComputeHash(all.ToArray()));
        }

        /// <summary>The bundle's SHA-256, lower-case hex: the name of its cache directory on every host.</summary>
        public string Hash { get; }

        /// <summary>The file names, in the order they travel.</summary>
        public IReadOnlyList<string> FileNames => _files.Select(f => f.Name).ToList();

        /// <summary>Total size of the files in bytes.</summary>
        public long Length => _files.Sum(f => (long)f.Bytes.Length);

        /// <summary>Waits for the bootstrap's answer and sends the files when it needs them.</summary>
        public void Run(Stream toWorker, Stream fromWorker)
        {
            string answer = ReadAnswer(fromWorker);
            if (answer == "HAVE") return;
            if (answer != "NEED") throw new ProtocolException($"The remote bootstrap answered '{answer}', not HAVE or NEED.");
            WriteTo(toWorker);
            toWorker.Flush();
        }

        /// <summary>Writes the bundle in its wire form.</summary>
        public void WriteTo(Stream stream)
        {
            var header = new byte[4];
            void WriteInt(int value)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(header, value);
                stream.Write(header, 0, 4);
            }
            WriteInt(_files.Count);
            foreach (var file in _files)
            {
                byte[] name = Encoding.UTF8.GetBytes(file.Name);
                WriteInt(name.Length);
                stream.Write(name, 0, name.Length);
                WriteInt(file.Bytes.Length);
                stream.Write(file.Hash, 0, file.Hash.Length);
                stream.Write(file.Bytes, 0, file.Bytes.Length);
            }
        }

        /// <summary>Reads lines byte by byte (so nothing past the answer is consumed) until one ends with the marker and its word.</summary>
        private static string ReadAnswer(Stream fromWorker)
        {
            var line = new StringBuilder();
            int total = 0;
            while (true)
            {
                int b = fromWorker.ReadByte();
                if (b < 0) throw new ProtocolException("The remote command ended before the ProcessPool bootstrap answered.");
                if (++total > MaxNoiseBytes) throw new ProtocolException($"The remote command wrote {MaxNoiseBytes} bytes without the ProcessPool bootstrap's answer; is a login script printing to stdout?");
                if (b != '\n')
                {
                    if (line.Length < 256) line.Append((char)b);
                    continue;
                }
                string text = line.ToString().TrimEnd('\r');
                line.Clear();
                int at = text.LastIndexOf(Marker, StringComparison.Ordinal);
                if (at >= 0) return text.Substring(at + Marker.Length).Trim();
            }
        }

        private static string Hex(byte[] bytes)
        {
            var text = new StringBuilder(bytes.Length * 2);
            foreach (byte b in bytes) text.Append(b.ToString("x2"));
            return text.ToString();
        }
    }
}
