using System;
using System.Security.Cryptography;

namespace ProcessPool.BenchMethods
{
    /// <summary>The benchmark workloads, run both inside pool workers and in the serial in-process baseline.</summary>
    public static class Work
    {
        /// <summary>The trivial item: per-item cost is all pool overhead.</summary>
        public static long Double(long x) => 2 * x;

        /// <summary>
        /// CPU-bound item: a chain of <paramref name="rounds"/> SHA-256 hashes starting from the 4 little-endian bytes of
        /// <c>rounds</c> itself (the seed), returned as lowercase hex. The Python peer computes the same chain
        /// (<c>struct.pack('&lt;i', rounds)</c>), so both sides can be checked against each other.
        /// </summary>
        public static string Sha(int rounds)
        {
            int seed = rounds;
            byte[] start = BitConverter.GetBytes(seed);
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(start, hash);
            for (int i = 1; i < rounds; i++) SHA256.HashData(hash, hash);
            return rounds <= 0 ? Convert.ToHexStringLower(start) : Convert.ToHexStringLower(hash);
        }
    }
}
