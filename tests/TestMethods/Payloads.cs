using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;

namespace ProcessPool.TestMethods
{
    /// <summary>Static methods the engine tests run inside real worker processes, including ones that misbehave on purpose.</summary>
    public static class Payloads
    {
        private static int _calls;
        private static readonly List<byte[]> Hoarded = new List<byte[]>();
        private static string? _initialized;

        public static int Double(int x) => 2 * x;

        public static int Add(int a, int b) => a + b;

        /// <summary>Spreading by name: <c>Scale</c> has an optional parameter an item may leave out.</summary>
        public static string Scale(string label, int value, int factor = 10) => $"{label}={value * factor}";

        public static string Echo(string text) => text;

        public static void Nothing(int x) { }

        public static async Task<int> DoubleAsync(int x)
        {
            await Task.Yield();
            return 2 * x;
        }

        public static async Task NothingAsync(int x) => await Task.Yield();

        public static Point Mirror(Point p) => new Point { X = p.Y, Y = p.X };

        /// <summary>The worker's pid and how many calls this process has served: proves workers are reused.</summary>
        public static int[] WhoAmI(int x) => new[] { Process.GetCurrentProcess().Id, Interlocked.Increment(ref _calls) };

        public static int Pid(int x) => Process.GetCurrentProcess().Id;

        // Not inlined: the tests look for this frame in the remote stack trace, which a Release build would otherwise fold away.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int ThrowIfNegative(int x) => x >= 0 ? x : throw new ArgumentOutOfRangeException(nameof(x), $"negative: {x}");

        /// <summary>Exits the worker with code 42 when given the poison value, doubles otherwise.</summary>
        public static int ExitOn(int x) => x == Poison ? Exit(42) : 2 * x;

        public const int Poison = 13;

        /// <summary>Kills its own worker with SIGKILL on the poison value.</summary>
        public static int KillSelfOn(int x)
        {
            if (x == Poison) kill(Process.GetCurrentProcess().Id, 9);
            return 2 * x;
        }

        /// <summary>Hangs on the poison value.</summary>
        public static int HangOn(int x)
        {
            if (x == Poison) Thread.Sleep(Timeout.Infinite);
            return 2 * x;
        }

        public static int SleepMs(int ms)
        {
            Thread.Sleep(ms);
            return ms;
        }

        /// <summary>Writes to the console every way user code can: Console.Out, stdout's raw fd, and a child process that inherits it.</summary>
        public static int Noisy(int x)
        {
            Console.WriteLine("garbage from Console.WriteLine " + x);
            Console.Out.Flush();
            var bytes = System.Text.Encoding.ASCII.GetBytes("\u00b7garbage written to fd 1\n");
            write(1, bytes, (IntPtr)bytes.Length);
            using (var child = Process.Start(new ProcessStartInfo("sh", "-c \"echo garbage from a child process\"") { UseShellExecute = false }))
                child!.WaitForExit();
            return 2 * x;
        }

        /// <summary>Holds <paramref name="megabytes"/> more of touched memory in the worker.</summary>
        public static int Hoard(int megabytes)
        {
            var block = new byte[megabytes * 1024 * 1024];
            for (int i = 0; i < block.Length; i += 4096) block[i] = 1;
            Hoarded.Add(block);
            return Hoarded.Count;
        }

        /// <summary>CPU-bound work: a SHA-256 chain of <paramref name="rounds"/> rounds.</summary>
        public static string ShaChain(int rounds)
        {
            using var sha = SHA256.Create();
            byte[] data = BitConverter.GetBytes(rounds);
            for (int i = 0; i < rounds; i++) data = sha.ComputeHash(data);
            return BitConverter.ToString(data, 0, 8);
        }

        public static void Init(string marker) => _initialized = marker;

        public static void FailInit(string why) => throw new InvalidOperationException("initializer refused: " + why);

        public static string Initialized(int x) => _initialized ?? "<none>";

        /// <summary>Where this assembly was loaded from (a remote worker: its copy in the host's cache).</summary>
        public static string AssemblyLocation(int x) => typeof(Payloads).Assembly.Location;

        /// <summary>An environment variable of the worker, or "<unset>".</summary>
        public static string Env(string name) => Environment.GetEnvironmentVariable(name) ?? "<unset>";

        /// <summary>A finalizer that proves it ran by writing a file.</summary>
        public static void WriteMarker(string path) => File.WriteAllText(Path.Combine(path, "finalized-" + Process.GetCurrentProcess().Id), "done");

        /// <summary>A finalizer that fails.</summary>
        public static void FailFinalizer(string why) => throw new InvalidOperationException("finalizer refused: " + why);

        /// <summary>A finalizer that never returns.</summary>
        public static void HangFinalizer() => Thread.Sleep(Timeout.Infinite);

        public static int Overloaded(int x) => x;
        public static int Overloaded(string x) => x.Length;

        public static int Generic<T>(T x) => 0;

        public static int ByRef(ref int x) => x;

        private static int Exit(int code)
        {
            Environment.Exit(code);
            return 0;
        }

        [DllImport("libc")] private static extern int kill(int pid, int signal);
        [DllImport("libc")] private static extern IntPtr write(int fd, byte[] buffer, IntPtr count);
    }

    public sealed class Instance
    {
        public int NotStatic(int x) => x;
    }

    public struct Point
    {
        public int X;
        public int Y;
    }
}
