using System;
using System.IO;
using System.Linq;
using Xunit;

namespace ProcessPool.Engine.Tests
{
    /// <summary>How remote hosts are named and how ssh is started for them: refusals happen before anything runs.</summary>
    public sealed class SshLaunchTests
    {
        [Theory]
        [InlineData("web1", null, "web1", null)]
        [InlineData("alice@web2", "alice", "web2", null)]
        [InlineData("web3:2222", null, "web3", 2222)]
        [InlineData("bob@[::1]:2200", "bob", "::1", 2200)]
        [InlineData("::1", null, "::1", null)]
        public void Parse_AcceptedForms_SplitUserHostAndPort(string text, string? user, string host, int? port)
        {
            var target = SshTarget.Parse(text);
            Assert.Equal(user, target.UserName);
            Assert.Equal(host, target.Host);
            Assert.Equal(port, target.Port);
        }

        [Fact]
        public void Parse_DefaultsApplyOnlyWhereTheNameGivesNone()
        {
            var target = SshTarget.Parse("alice@web2", defaultUser: "ops", defaultPort: 2200);
            Assert.Equal("alice", target.UserName);
            Assert.Equal(2200, target.Port);
            Assert.Equal("alice@web2:2200", target.Display);
        }

        [Theory]
        [InlineData("-oProxyCommand=touch pwned")]
        [InlineData("-web1")]
        [InlineData("-l@web1")]
        [InlineData("web1 -p 1")]
        [InlineData("web1\t")]
        [InlineData("web1\n")]
        [InlineData("web1\u0000")]
        [InlineData("web1:0")]
        [InlineData("web1:70000")]
        [InlineData("web1:x")]
        [InlineData("@web1")]
        [InlineData("")]
        public void Parse_UnsafeOrMalformedName_IsRefused(string text)
        {
            Assert.Throws<ArgumentException>(() => SshTarget.Parse(text));
        }

        [Fact]
        public void Launch_AlwaysBatchModeAndStrictHostKeys_UserOptionsFirst()
        {
            var ssh = new SshSettings { SshPath = "ssh", KeyFilePath = "/keys/id", ConnectTimeout = TimeSpan.FromMilliseconds(2500) };
            ssh.Options["UserKnownHostsFile"] = "test_known_hosts";
            var launch = ssh.Launch(SshTarget.Parse("alice@web2:2222"), "pwsh -EncodedCommand AAAA", null);
            var args = launch.Arguments.ToList();
            Assert.Equal(new[] { "-T", "-o", "BatchMode=yes", "-o", "UserKnownHostsFile=test_known_hosts", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=3" }, args.Take(9));
            Assert.Contains("ServerAliveInterval=15", args);
            Assert.Equal(new[] { "-p", "2222", "-i", "/keys/id", "alice@web2", "pwsh -EncodedCommand AAAA" }, args.Skip(args.Count - 6));
            Assert.Equal("alice@web2:2222", launch.HostName);
        }

        [Fact]
        public void Launch_AcceptNew_ReplacesTheDefault()
        {
            var ssh = new SshSettings { SshPath = "ssh" };
            ssh.Options["StrictHostKeyChecking"] = "accept-new";
            var args = ssh.Launch(SshTarget.Parse("web1"), "pwsh", null).Arguments;
            Assert.Contains("StrictHostKeyChecking=accept-new", args);
            Assert.DoesNotContain("StrictHostKeyChecking=yes", args);
        }

        [Theory]
        [InlineData("StrictHostKeyChecking", "no")]
        [InlineData("StrictHostKeyChecking", "off")]
        [InlineData("BatchMode", "no")]
        [InlineData("Proxy Command", "x")]
        public void Launch_UnsafeOption_IsRefused(string name, string value)
        {
            var ssh = new SshSettings { SshPath = "ssh" };
            ssh.Options[name] = value;
            Assert.Throws<ArgumentException>(() => ssh.Launch(SshTarget.Parse("web1"), "pwsh", null));
        }

        [Fact]
        public void Bundle_NeedAfterNoise_SendsEveryFileWithItsHash()
        {
            string dir = Path.Combine(Path.GetTempPath(), "pp-bundle-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                File.WriteAllBytes(Path.Combine(dir, "b.dll"), new byte[] { 1, 2, 3 });
                File.WriteAllBytes(Path.Combine(dir, "a.dll"), new byte[] { 4 });
                var bundle = new FileBundle(Directory.GetFiles(dir));
                Assert.Equal(new[] { "a.dll", "b.dll" }, bundle.FileNames);
                Assert.Matches("^[0-9a-f]{64}$", bundle.Hash);

                var sent = new MemoryStream();
                bundle.Run(sent, new MemoryStream(System.Text.Encoding.ASCII.GetBytes("Welcome to web1\nPPBOOT1 NEED\nFRAMES")));
                var expected = new MemoryStream();
                bundle.WriteTo(expected);
                Assert.Equal(expected.ToArray(), sent.ToArray());
                Assert.Equal(4 + 2 * (4 + 5 + 4 + 32) + 4, sent.Length);

                var none = new MemoryStream();
                var answer = new MemoryStream(System.Text.Encoding.ASCII.GetBytes("PPBOOT1 HAVE\nFRAMES"));
                bundle.Run(none, answer);
                Assert.Equal(0, none.Length);
                Assert.Equal((byte)'F', answer.ReadByte()); // nothing past the answer was consumed
            }
            finally { Directory.Delete(dir, recursive: true); }
        }

        [Fact]
        public void Bundle_StreamEndsWithoutAnswer_IsAProtocolError()
        {
            var bundle = new FileBundle(Array.Empty<string>());
            Assert.Throws<ProtocolException>(() => bundle.Run(new MemoryStream(), new MemoryStream(new byte[] { (byte)'x', (byte)'\n' })));
        }
    }
}
