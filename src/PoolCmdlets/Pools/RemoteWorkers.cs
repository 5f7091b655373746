using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using ProcessPool.Commands.Worker;
using ProcessPool.Engine;

namespace ProcessPool.Commands
{
    /// <summary>
    /// Remote workers: one ssh child per worker runs a fixed bootstrap in the remote PowerShell. The bootstrap is the same
    /// for every pool of this module version (it carries only the hash of the module's assemblies); it answers whether
    /// the host's cache holds those assemblies, receives them over stdin when it does not (hash-checked, written to a
    /// per-user cache directory named by the hash), imports the module from the cache and enters the usual worker loop.
    /// User code, <c>$using:</c> values and arguments travel later, as protocol frames, never on a command line.
    /// </summary>
    internal static class RemoteWorkers
    {
        /// <summary>The remote PowerShell when none is named: pwsh on the remote PATH (it finds pwsh.exe on Windows too).</summary>
        public const string DefaultRemotePowerShell = "pwsh";

        /// <summary>Exit codes of the bootstrap, so a failure reads as its cause.</summary>
        public const int NeedsPowerShell7 = 86, BundleTruncated = 87, BundleCorrupt = 88, BootstrapFailed = 89;

        private static readonly Lazy<FileBundle> ModuleBundle = new Lazy<FileBundle>(() =>
        {
            string dir = Path.GetDirectoryName(typeof(RemoteWorkers).Assembly.Location)!;
            return new FileBundle(Directory.GetFiles(dir, "*.dll").Where(p => !Path.GetFileName(p).Equals("System.Management.Automation.dll", StringComparison.OrdinalIgnoreCase)));
        });

        /// <summary>The module's assemblies as shipped to remote hosts.</summary>
        public static FileBundle Bundle => ModuleBundle.Value;

        /// <summary>One worker group per host of <paramref name="hosts"/>, each of <paramref name="workersPerHost"/> workers, or sized by the host's processor count when null.</summary>
        /// <exception cref="ArgumentException">A host name or an ssh option is refused.</exception>
        public static List<WorkerGroup> Groups(IEnumerable<string> hosts, int? workersPerHost, SshSettings ssh, string? userName, int? port, string? remotePowerShell)
        {
            string command = RemoteCommand(remotePowerShell ?? DefaultRemotePowerShell);
            var groups = new List<WorkerGroup>();
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (string host in hosts)
            {
                var target = SshTarget.Parse(host, userName, port);
                if (!seen.Add(target.Display)) throw new ArgumentException($"The host '{target.Display}' is named twice.");
                var launch = ssh.Launch(target, command, Bundle);
                groups.Add(workersPerHost is int size ? new WorkerGroup(launch, size) : WorkerGroup.SizedByHost(launch));
            }
            return groups;
        }

        /// <summary>The remote command line: <paramref name="remotePowerShell"/> (text for the remote shell, the user's own) and the fixed bootstrap.</summary>
        public static string RemoteCommand(string remotePowerShell)
        {
            if (remotePowerShell.Any(char.IsControl)) throw new ArgumentException("The remote PowerShell command holds a control character.");
            string script = Bootstrap.Replace("{HASH}", Bundle.Hash)
                .Replace("{TYPE}", typeof(ScriptWorkerHost).FullName)
                .Replace("{V7}", NeedsPowerShell7.ToString())
                .Replace("{SHORT}", BundleTruncated.ToString())
                .Replace("{CORRUPT}", BundleCorrupt.ToString())
                .Replace("{FAILED}", BootstrapFailed.ToString());
            return $"{remotePowerShell} -NoProfile -NonInteractive -NoLogo -EncodedCommand {Convert.ToBase64String(Encoding.Unicode.GetBytes(script))}";
        }

        // The bootstrap (see FileBundle for the wire format). It reads stdin with exact counts, so not one byte of the
        // protocol that follows is consumed; the cache directory appears only complete (written aside, then renamed).
        private const string Bootstrap = @"$ErrorActionPreference='Stop'
trap{[Console]::Error.WriteLine(""ProcessPool bootstrap on $([Environment]::MachineName): $_"");exit {FAILED}}
$h='{HASH}'
if($PSVersionTable.PSVersion.Major -lt 7){[Console]::Error.WriteLine(""ProcessPool: remote workers need PowerShell 7 or later; $([Environment]::MachineName) runs $($PSVersionTable.PSVersion)."");exit {V7}}
$i=[Console]::OpenStandardInput();$o=[Console]::OpenStandardOutput()
$r=if($env:LOCALAPPDATA){$env:LOCALAPPDATA}elseif($env:XDG_CACHE_HOME){$env:XDG_CACHE_HOME}else{Join-Path $HOME .cache}
$b=Join-Path $r ProcessPool;$d=Join-Path $b $h;$ok=Test-Path -LiteralPath (Join-Path $d .complete)
$a=[Text.Encoding]::ASCII.GetBytes(""PPBOOT1 $(if($ok){'HAVE'}else{'NEED'})`n"");$o.Write($a,0,$a.Length);$o.Flush()
if(-not $ok){
function ppRead([int]$n){$x=[byte[]]::new($n);$k=0;while($k -lt $n){$c=$i.Read($x,$k,$n-$k);if($c -le 0){[Console]::Error.WriteLine('ProcessPool: the module assemblies arrived truncated.');exit {SHORT}};$k+=$c};,$x}
function ppInt{[BitConverter]::ToInt32((ppRead 4),0)}
function ppBad($m){[Console]::Error.WriteLine(""ProcessPool: $m"");exit {CORRUPT}}
$s=[Security.Cryptography.SHA256]::Create();$t=Join-Path $b "".$h.$PID"";$null=New-Item -ItemType Directory -Force -Path $t;$m=[IO.MemoryStream]::new()
$n=ppInt;for($f=0;$f -lt $n;$f++){$nb=ppRead (ppInt);$nm=[Text.Encoding]::UTF8.GetString($nb);$l=ppInt;$w=ppRead 32;$x=ppRead $l
if($nm -notmatch '^[A-Za-z0-9_.-]+$' -or $nm -like '.*'){ppBad ""refused the file name '$nm'.""}
if([BitConverter]::ToString($s.ComputeHash($x)) -ne [BitConverter]::ToString($w)){ppBad ""$nm does not match its SHA-256.""}
[IO.File]::WriteAllBytes((Join-Path $t $nm),$x);$m.Write($nb,0,$nb.Length);$m.WriteByte(0);$m.Write($w,0,32)}
if(([BitConverter]::ToString($s.ComputeHash($m.ToArray())) -replace '-','') -ne $h){ppBad 'the module assemblies do not match the expected hash.'}
[IO.File]::WriteAllText((Join-Path $t .complete),$h)
try{[IO.Directory]::Move($t,$d)}catch{Remove-Item -LiteralPath $t -Recurse -Force -ErrorAction Ignore;if(-not(Test-Path -LiteralPath (Join-Path $d .complete))){throw}}}
$p=(Get-Process -Id $PID).Parent;if($p){$env:PROCESSPOOL_PARENT_PID=$p.Id};$env:PROCESSPOOL_REMOTE_WORKER='1'
Import-Module -Name (Join-Path $d ProcessPool.dll)
exit [{TYPE}]::Run()";
    }
}
