using System;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ProcessPool.Engine.Worker
{
    /// <summary>
    /// Takes the worker's standard input and output for the protocol and points the process's own stdin at the null
    /// device and stdout at stderr, so nothing user code prints or reads (Console, native children that inherit the
    /// handles) can corrupt or steal protocol bytes.
    /// </summary>
    internal static class StdioGuard
    {
        public static (Stream input, Stream output) Claim()
        {
            return RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? ClaimWindows() : ClaimUnix();
        }

        private static (Stream, Stream) ClaimUnix()
        {
            int protocolIn = Unix.dup(0);
            int protocolOut = Unix.dup(1);
            if (protocolIn < 0 || protocolOut < 0) throw new IOException("Could not duplicate the worker's standard handles (dup failed).");
            // Close-on-exec: a child of user code must not hold the protocol pipes open after this worker dies.
            Unix.fcntl(protocolIn, Unix.F_SETFD, Unix.FD_CLOEXEC);
            Unix.fcntl(protocolOut, Unix.F_SETFD, Unix.FD_CLOEXEC);
            int devNull = Unix.open("/dev/null", 0 /* O_RDONLY */);
            if (devNull >= 0)
            {
                Unix.dup2(devNull, 0);
                Unix.close(devNull);
            }
            Unix.dup2(2, 1);
            RedirectConsole();
            var input = new FileStream(new SafeFileHandle((IntPtr)protocolIn, true), FileAccess.Read, 1);
            var output = new FileStream(new SafeFileHandle((IntPtr)protocolOut, true), FileAccess.Write, 1);
            return (input, output);
        }

        private static (Stream, Stream) ClaimWindows()
        {
            IntPtr stdin = Windows.GetStdHandle(Windows.StdInput);
            IntPtr stdout = Windows.GetStdHandle(Windows.StdOutput);
            IntPtr stderr = Windows.GetStdHandle(Windows.StdError);
            var input = new FileStream(new SafeFileHandle(stdin, false), FileAccess.Read, 1);
            var output = new FileStream(new SafeFileHandle(stdout, false), FileAccess.Write, 1);
            Windows.SetHandleInformation(stdin, Windows.HandleFlagInherit, 0);
            Windows.SetHandleInformation(stdout, Windows.HandleFlagInherit, 0);
            IntPtr nul = Windows.CreateFile("NUL", 0x80000000 /* GENERIC_READ */, 3, IntPtr.Zero, 3 /* OPEN_EXISTING */, 0, IntPtr.Zero);
            Windows.SetStdHandle(Windows.StdInput, nul);
            Windows.SetStdHandle(Windows.StdOutput, stderr);
            RedirectConsole();
            return (input, output);
        }

        private static void RedirectConsole()
        {
            Console.SetOut(Console.Error);
            Console.SetIn(TextReader.Null);
        }

        private static class Unix
        {
            [DllImport("libc", SetLastError = true)] public static extern int dup(int fd);
            [DllImport("libc", SetLastError = true)] public static extern int dup2(int fd, int fd2);
            [DllImport("libc", SetLastError = true)] public static extern int close(int fd);
            [DllImport("libc", SetLastError = true)] public static extern int fcntl(int fd, int command, int argument);
            public const int F_SETFD = 2;
            public const int FD_CLOEXEC = 1;
            [DllImport("libc", SetLastError = true)] public static extern int open([MarshalAs(UnmanagedType.LPStr)] string path, int flags);
        }

        private static class Windows
        {
            public const int StdInput = -10;
            public const int StdOutput = -11;
            public const int StdError = -12;
            [DllImport("kernel32.dll", SetLastError = true)] public static extern IntPtr GetStdHandle(int which);
            [DllImport("kernel32.dll", SetLastError = true)] public static extern bool SetStdHandle(int which, IntPtr handle);
            [DllImport("kernel32.dll", SetLastError = true)] public static extern bool SetHandleInformation(IntPtr handle, uint mask, uint flags);
            public const uint HandleFlagInherit = 1;
            [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
            public static extern IntPtr CreateFile(string name, uint access, uint share, IntPtr security, uint disposition, uint flags, IntPtr template);
        }
    }
}
