using System;
using System.IO;
using System.Security.Cryptography;

namespace ProcessPool.Engine
{
    /// <summary>
    /// A file a payload needs (a method pool's assembly) that a remote worker cannot read from the caller's disk. Before
    /// the Setup or Define frame that names it, the parent offers it to a remote worker (<c>FileOffer</c>: the path as the
    /// payload names it, the file name, its SHA-256 and length); the worker uses its cached copy when one with that hash is
    /// there, else asks for it (<c>FileNeeded</c>) and the bytes follow (<c>FileData</c>), checked against the hash and
    /// stored in its cache. The worker then loads the cached copy wherever the payload names the original path. Local
    /// workers read the path itself; nothing is shipped to them.
    /// </summary>
    public sealed class ShippedFile
    {
        private ShippedFile(string path, byte[] bytes, byte[] hash)
        {
            Path = path;
            Name = System.IO.Path.GetFileName(path);
            Bytes = bytes;
            Hash = hash;
            HashHex = ToHex(hash);
        }

        /// <summary>The full path as the payload names it: the key under which a worker finds the cached copy.</summary>
        public string Path { get; }

        /// <summary>The file's name, kept in the cache so that the runtime sees the assembly under its own name.</summary>
        public string Name { get; }

        /// <summary>The content, read once when the map or pool was set up.</summary>
        internal byte[] Bytes { get; }

        /// <summary>SHA-256 of <see cref="Bytes"/>.</summary>
        internal byte[] Hash { get; }

        /// <summary>The hash as lower-case hex: the cache directory's name on every host.</summary>
        public string HashHex { get; }

        /// <summary>Size in bytes.</summary>
        public long Length => Bytes.Length;

        /// <summary>Reads <paramref name="path"/> (made absolute) and hashes it.</summary>
        public static ShippedFile Read(string path)
        {
            string full = System.IO.Path.GetFullPath(path);
            byte[] bytes = File.ReadAllBytes(full);
            using var sha = SHA256.Create();
            return new ShippedFile(full, bytes, sha.ComputeHash(bytes));
        }

        internal static string ToHex(byte[] bytes)
        {
            var text = new char[bytes.Length * 2];
            const string digits = "0123456789abcdef";
            for (int i = 0; i < bytes.Length; i++)
            {
                text[2 * i] = digits[bytes[i] >> 4];
                text[2 * i + 1] = digits[bytes[i] & 15];
            }
            return new string(text);
        }
    }
}
