BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-ProcessPoolModule
    $script:pool = New-TestPool -Size 2
    $script:methods = Get-TestMethodsPath
}

AfterAll {
    Remove-TestPool $script:pool
}

Describe 'Invoke-PoolMap' {
    Context 'ScriptBlock' {
        It 'runs the block once per item with $_ and $PSItem as the item, in input order' {
            $result = 1..50 | Invoke-PoolMap -Pool $pool { "$_/$PSItem" }
            $result | Should -Be (1..50 | ForEach-Object { "$_/$_" })
        }

        It 'runs the block in a worker process, not in the caller' {
            $ids = 1..20 | Invoke-PoolMap -Pool $pool { $PID } | Sort-Object -Unique
            $ids | Should -Not -Contain $PID
            $ids | ForEach-Object { $pool.WorkerProcessIds | Should -Contain $_ }
        }

        It 'pipes each item into a block with a process block' {
            1..3 | Invoke-PoolMap -Pool $pool { begin { $n = 10 } process { $_ + $n } } | Should -Be 11, 12, 13
        }

        It 'writes zero or many outputs per item, each item''s outputs together' {
            1..3 | Invoke-PoolMap -Pool $pool { 1..$_ | ForEach-Object { "x$_" } } | Should -Be 'x1', 'x1', 'x2', 'x1', 'x2', 'x3'
        }

        It 'reports an item that throws as PoolItemFailed with the item as target and goes on with the rest' {
            $out = 1..4 | Invoke-PoolMap -Pool $pool { if ($_ -eq 2) { throw "boom $_" }; $_ } -ErrorVariable failures -ErrorAction SilentlyContinue
            $out | Should -Be 1, 3, 4
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'PoolItemFailed,*'
            $failures[0].TargetObject | Should -Be 2
            $failures[0].Exception.RemoteType | Should -Be 'System.Management.Automation.RuntimeException'
            $failures[0].Exception.RemoteMessage | Should -Be 'boom 2'
        }

        It 'throws PoolItemFailed with -ErrorAction Stop' {
            { 1 | Invoke-PoolMap -Pool $pool { throw 'boom' } -ErrorAction Stop } | Should -Throw -ErrorId 'PoolItemFailed,ProcessPool.Commands.InvokePoolMapCommand'
        }

        It 'keeps the remote exception type of a typed throw' {
            $null = 1 | Invoke-PoolMap -Pool $pool { throw [System.IO.FileNotFoundException]::new('gone') } -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures[0].Exception.RemoteType | Should -Be 'System.IO.FileNotFoundException'
        }

        It 'goes on after a statement-terminating error, as ForEach-Object does' {
            $out = 1 | Invoke-PoolMap -Pool $pool { 1 / 0; 'after' } -ErrorVariable failures -ErrorAction SilentlyContinue
            $out | Should -Be 'after'
            $failures.Count | Should -Be 1
        }

        It 'keeps the error id and category of an error the block writes, with the item as target' {
            $null = 5 | Invoke-PoolMap -Pool $pool { Write-Error -Message 'written' -ErrorId 'MyOwnId' -Category InvalidData } -ErrorVariable written -ErrorAction SilentlyContinue
            $written.Count | Should -Be 1
            $written[0].FullyQualifiedErrorId | Should -BeLike 'MyOwnId*'
            $written[0].CategoryInfo.Category | Should -Be 'InvalidData'
            $written[0].TargetObject | Should -Be 5
            $written[0].Exception.Message | Should -Be 'written'
        }

        It 'returns the warning, verbose, debug and information streams and Write-Host' {
            $records = 1 | Invoke-PoolMap -Pool $pool {
                Write-Warning 'w'; Write-Verbose 'v'; Write-Debug 'd'; Write-Information 'i'; Write-Host 'h'
            } -WarningVariable warnings -InformationVariable information -WarningAction SilentlyContinue -InformationAction SilentlyContinue -Verbose -Debug 4>&1 5>&1
            $warnings | Should -Be 'w'
            @($records | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -eq 'v' }).Count | Should -Be 1
            @($records | Where-Object { $_ -is [System.Management.Automation.DebugRecord] -and $_.Message -eq 'd' }).Count | Should -Be 1
            $information | ForEach-Object { $_.MessageData.ToString() } | Should -Be 'i', 'h'
            @($information | Where-Object { $_.Tags -contains 'PSHOST' }).Count | Should -Be 1
        }

        It 'leaves verbose and debug messages off unless the caller asks for them' {
            $records = 1 | Invoke-PoolMap -Pool $pool { Write-Verbose 'v'; Write-Debug 'd'; 'out' } 4>&1 5>&1
            $records | Should -Be 'out'
        }

        It 'runs each item in its own scope, so variables do not carry over between items' {
            1..3 | Invoke-PoolMap -Pool $pool -ChunkSize 3 { $count++; $count } | Should -Be 1, 1, 1
        }

        It 'does not let one invocation''s globals, functions, aliases or location reach the next' {
            $null = 1..4 | Invoke-PoolMap -Pool $pool -ChunkSize 1 {
                $global:leaked = 'yes'; function global:LeakedFunction { }; Set-Alias -Name leakedalias -Value Get-Date -Scope Global
                $global:ErrorActionPreference = 'Stop'; Set-Location ([IO.Path]::GetTempPath())
            }
            $seen = 1..4 | Invoke-PoolMap -Pool $pool -ChunkSize 1 {
                '{0}|{1}|{2}|{3}|{4}' -f $global:leaked, [bool](Get-Command LeakedFunction -ErrorAction Ignore), [bool](Get-Alias leakedalias -ErrorAction Ignore), $ErrorActionPreference, $PWD.ProviderPath
            }
            $seen | Sort-Object -Unique | Should -Be "|False|False|Continue|$($PWD.ProviderPath)"
        }

        It 'runs in the caller''s current directory' {
            Push-Location $TestDrive
            try { 1 | Invoke-PoolMap -Pool $pool { $PWD.ProviderPath } | Should -Be (Get-Location).ProviderPath }
            finally { Pop-Location }
        }

        It 'ends only the current item on a stray break or continue' {
            1..4 | Invoke-PoolMap -Pool $pool -ChunkSize 4 { if ($_ -eq 2) { break }; if ($_ -eq 3) { continue }; $_ } | Should -Be 1, 4
        }

        It 'keeps the protocol intact whatever the block prints to the console' {
            $native = if ($IsWindows) { { cmd /c 'echo native-stdout' | Out-Host } } else { { Start-Process -FilePath sh -ArgumentList '-c', 'echo native-stdout; echo raw >&1' -NoNewWindow -Wait } }
            $result = 1..20 | Invoke-PoolMap -Pool $pool -ChunkSize 5 -ArgumentList $native.ToString() {
                param($nativeText)
                [Console]::WriteLine("console $_"); [Console]::Out.Write([char]0xB7); [Console]::Out.Flush()
                [Console]::Error.WriteLine("stderr $_")
                & ([scriptblock]::Create($nativeText))
                $_ * 2
            }
            $result | Should -Be (1..20 | ForEach-Object { $_ * 2 })
        }
    }

    Context 'InputObject' {
        It 'takes input from the pipeline as it arrives and streams output before input ends' {
            # The producer keeps going until the first result has come out (at most 600 items, a minute): on any machine,
            # however slow, output that waited for the end of input would leave it producing all 600.
            $state = @{ FirstOutputAt = 0; Produced = 0 }
            $null = 1..600 | ForEach-Object { if ($state.FirstOutputAt) { return }; $state.Produced++; Start-Sleep -Milliseconds 100; $_ } |
                Invoke-PoolMap -Pool $pool { $_ } | ForEach-Object { if (-not $state.FirstOutputAt) { $state.FirstOutputAt = $state.Produced } }
            $state.FirstOutputAt | Should -BeGreaterThan 0
            $state.Produced | Should -BeLessThan 600
        }

        It 'treats -InputObject given directly as one item, as ForEach-Object does' {
            Invoke-PoolMap -Pool $pool -InputObject (1, 2, 3) { $_.Count } | Should -Be 3
        }

        It 'keeps an array item whole' {
            , (1, 2) | Invoke-PoolMap -Pool $pool { $_.GetType().Name + ':' + $_.Count } | Should -Be 'Object[]:2'
        }

        It 'runs nothing without input' {
            Invoke-PoolMap -Pool $pool { 'ran' } | Should -BeNullOrEmpty
        }

        It 'passes $null as an item' {
            $null | Invoke-PoolMap -Pool $pool { $null -eq $_ } | Should -BeTrue
        }

        It 'sends a file as a live FileInfo with its provider properties' {
            $file = New-Item -Path (Join-Path $TestDrive 'live.txt') -Value 'hello' -Force
            $result = Get-Item $file.FullName | Invoke-PoolMap -Pool $pool { '{0}|{1}|{2}|{3}' -f $_.GetType().Name, $_.Length, $_.PSChildName, ($_ | Get-Content) }
            $result | Should -Be 'FileInfo|5|live.txt|hello'
        }

        It 'round-trips strings, numbers, dates and guids with their types' {
            $guid = [guid]::NewGuid(); $date = [datetime]::new(2026, 1, 2, 3, 4, 5, [DateTimeKind]::Utc)
            $items = 'text', 42, ([long]1 -shl 40), 2.5, $true, 1.5d, $guid, $date
            $back = $items | Invoke-PoolMap -Pool $pool { $_ }
            for ($i = 0; $i -lt $items.Count; $i++) {
                $back[$i] | Should -Be $items[$i]
                $back[$i].GetType() | Should -Be $items[$i].GetType()
            }
        }

        It 'sends other objects as CliXml, like remoting' {
            [pscustomobject]@{ Name = 'n'; Size = 3 } | Invoke-PoolMap -Pool $pool { $_.Name + $_.Size } | Should -Be 'n3'
        }
    }

    Context 'Pool' {
        It 'runs on the pool given by object' {
            $ids = 1..10 | Invoke-PoolMap -Pool $pool { $PID } | Sort-Object -Unique
            $ids | ForEach-Object { $pool.WorkerProcessIds | Should -Contain $_ }
        }

        It 'accepts a pool''s name' {
            1..3 | Invoke-PoolMap -Pool $pool.Name { $_ } | Should -Be 1, 2, 3
        }

        It 'fails with PoolNotFound for an unknown name' {
            { 1 | Invoke-PoolMap -Pool 'no-such-pool' { $_ } } | Should -Throw -ErrorId 'PoolNotFound,ProcessPool.Commands.InvokePoolMapCommand'
        }

        It 'fails with PoolClosed on a pool that was removed' {
            $closed = New-TestPool -Size 1
            Remove-TestPool $closed
            { 1 | Invoke-PoolMap -Pool $closed { $_ } } | Should -Throw -ErrorId 'PoolClosed,ProcessPool.Commands.InvokePoolMapCommand'
        }

        It 'uses the default pool when omitted and keeps its workers warm between commands' {
            $first = @(1..4 | Invoke-PoolMap { $PID } | Sort-Object -Unique)
            $default = Get-ProcessPool -Name Default
            $started = $default.WorkersStarted
            $second = @(1..4 | Invoke-PoolMap { $PID } | Sort-Object -Unique)
            $default.IsDefault | Should -BeTrue
            $default.Size | Should -Be ([Environment]::ProcessorCount)
            $default.WorkersStarted | Should -Be $started -Because 'the second command starts no worker'
            foreach ($id in $first + $second) { $id | Should -BeIn @($default.WorkerProcessIds) }
        }

        It 'completes pool names on tab' {
            $line = "Invoke-PoolMap -Pool $($pool.Name.Substring(0, 9))"
            $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
            $completion.CompletionMatches.CompletionText | Should -Contain $pool.Name
        }
    }

    Context 'ChunkSize' {
        It 'runs every item with chunks of one item' {
            1..10 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { $_ } | Should -Be (1..10)
        }

        It 'runs every item with chunks larger than the input' {
            1..10 | Invoke-PoolMap -Pool $pool -ChunkSize 1000 { $_ } | Should -Be (1..10)
        }

        It 'refuses a chunk size below one' {
            { 1 | Invoke-PoolMap -Pool $pool -ChunkSize 0 { $_ } } | Should -Throw -ErrorId 'ParameterArgumentValidationError,ProcessPool.Commands.InvokePoolMapCommand'
        }
    }

    Context 'Unordered' {
        It 'writes results in input order by default' {
            0..3 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { if ($_ -eq 0) { Start-Sleep -Milliseconds 1500 }; $_ } | Should -Be 0, 1, 2, 3
        }

        It 'writes results as they complete with -Unordered' {
            $out = 0..3 | Invoke-PoolMap -Pool $pool -ChunkSize 1 -Unordered { if ($_ -eq 0) { Start-Sleep -Milliseconds 1500 }; $_ }
            $out[0] | Should -Not -Be 0
            $out | Sort-Object | Should -Be 0, 1, 2, 3
        }
    }

    Context 'ArgumentList' {
        It 'binds the arguments to the block''s param() block for every item' {
            1..3 | Invoke-PoolMap -Pool $pool -ArgumentList 10, 'x' { param($add, $suffix) "$($_ + $add)$suffix" } | Should -Be '11x', '12x', '13x'
        }
    }

    Context 'ItemTimeoutSeconds' {
        It 'fails only the slow item with PoolItemTimeout, kills its worker and goes on' {
            $timeoutPool = New-TestPool -Size 2
            try {
                $out = 1..4 | Invoke-PoolMap -Pool $timeoutPool -ChunkSize 1 -ItemTimeoutSeconds 1 { if ($_ -eq 2) { $PID; Start-Sleep 60 }; $_ } -ErrorVariable failures -ErrorAction SilentlyContinue
                $out | Should -Be 1, 3, 4
                $failures.Count | Should -Be 1
                $failures[0].FullyQualifiedErrorId | Should -BeLike 'PoolItemTimeout,*'
                $failures[0].TargetObject | Should -Be 2
                $failures[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
                $timeoutPool.WorkersLost | Should -BeGreaterOrEqual 1
            }
            finally { Remove-TestPool $timeoutPool }
        }
    }

    Context 'TimeoutSeconds' {
        It 'stops the whole run with PoolRunTimeout and leaves no worker running it' {
            $runPool = New-TestPool -Size 2
            try {
                $busy = $runPool.WorkerProcessIds
                $clock = [Diagnostics.Stopwatch]::StartNew()
                { 1..10 | Invoke-PoolMap -Pool $runPool -ChunkSize 1 -TimeoutSeconds 1 { Start-Sleep 60; $_ } } | Should -Throw -ErrorId 'PoolRunTimeout,ProcessPool.Commands.InvokePoolMapCommand'
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
                Wait-ProcessGone $busy | Should -BeNullOrEmpty
            }
            finally { Remove-TestPool $runPool }
        }
    }

    Context 'RetryCount' {
        BeforeEach { $script:attempts = Join-Path $TestDrive ([guid]::NewGuid().ToString() + '.txt'); Set-Content $attempts -Value @() }

        It 'runs an item that failed again and reports the success' {
            $file = $attempts
            $out = 1 | Invoke-PoolMap -Pool $pool -RetryCount 2 { Add-Content -LiteralPath $using:file -Value 'try'; if (@(Get-Content -LiteralPath $using:file).Count -lt 2) { throw 'first try fails' }; 'ok' }
            $out | Should -Be 'ok'
            @(Get-Content $attempts).Count | Should -Be 2
        }

        It 'reports the failure after the last retry' {
            $file = $attempts
            $null = 1 | Invoke-PoolMap -Pool $pool -RetryCount 2 { Add-Content -LiteralPath $using:file -Value 'try'; throw 'always' } -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'PoolItemFailed,*'
            @(Get-Content $attempts).Count | Should -Be 3
        }
    }

    Context 'Depth' {
        It 'serializes the properties of .NET objects in an item to the given depth' {
            $file = New-Item -Path (Join-Path $TestDrive 'deep/file.txt') -Value 'x' -Force
            $item = @{ File = $file }
            $shallow = $item | Invoke-PoolMap -Pool $pool -Depth 1 { "[$($_.File.Directory.Name)]" }
            $deep = $item | Invoke-PoolMap -Pool $pool -Depth 2 { "[$($_.File.Directory.Name)]" }
            $shallow | Should -Be '[]'
            $deep | Should -Be '[deep]'
        }

        It 'refuses a depth below one' {
            { 1 | Invoke-PoolMap -Pool $pool -Depth 0 { $_ } } | Should -Throw -ErrorId 'ParameterArgumentValidationError,ProcessPool.Commands.InvokePoolMapCommand'
        }

        It 'serializes outputs to the given depth' {
            $path = (New-Item -Path (Join-Path $TestDrive 'out/file.txt') -Value 'x' -Force).FullName
            $shallow = $path | Invoke-PoolMap -Pool $pool -Depth 1 { @{ File = Get-Item -LiteralPath $_ } }
            $deep = $path | Invoke-PoolMap -Pool $pool -Depth 2 { @{ File = Get-Item -LiteralPath $_ } }
            $shallow.File.Directory.Name | Should -BeNullOrEmpty
            $deep.File.Directory.Name | Should -Be 'out'
        }
    }

    Context 'NoProgress' {
        It 'shows a throttled progress bar with a final Completed record in an interactive host, and none with -NoProgress' {
            $script = {
                param($module)
                Import-Module $module
                $counts = foreach ($extra in @(@{}, @{ NoProgress = $true })) {
                    $ps = [powershell]::Create()
                    # A pool of its own fixed size, so the run lasts about as long on any number of cores.
                    $null = $ps.AddScript('param($extra) Import-Module $args[0]; $p = New-ProcessPool -Size 2; 1..30 | Invoke-PoolMap -Pool $p @extra -ChunkSize 1 { Start-Sleep -Milliseconds 100; $_ } | Out-Null; Remove-ProcessPool $p').AddArgument($extra).AddArgument($module)
                    $null = $ps.Invoke()
                    $records = @($ps.Streams.Progress | Where-Object Activity -EQ 'Invoke-PoolMap')
                    '{0}/{1}' -f $records.Count, @($records | Where-Object RecordType -EQ 'Completed').Count
                }
                $counts -join ' '
            }
            # A child without -NonInteractive: the Pester host itself is non-interactive and shows no progress at all.
            $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes("& { $script } '$((Get-Module ProcessPool).Path)'"))
            $out = Invoke-PowerShell '-NoProfile', '-EncodedCommand', $encoded
            $withBar, $without = ($out | Select-Object -Last 1) -split ' '
            [int]($withBar -split '/')[0] | Should -BeGreaterThan 1
            [int]($withBar -split '/')[0] | Should -BeLessThan 30 # throttled: fewer updates than items
            [int]($withBar -split '/')[1] | Should -Be 1
            $without | Should -Be '0/0'
        }
    }

    Context 'AsJob' {
        It 'returns a PoolMapJob that Get-Job, Wait-Job and Receive-Job work with' {
            $job = 1..10 | Invoke-PoolMap -Pool $pool -AsJob { $_ * 2 }
            try {
                $job.PSJobTypeName | Should -Be 'PoolMapJob'
                (Get-Job -Id $job.Id).InstanceId | Should -Be $job.InstanceId
                $null = Wait-Job $job -Timeout 60
                $job.State | Should -Be 'Completed'
                Receive-Job $job | Should -Be (1..10 | ForEach-Object { $_ * 2 })
            }
            finally { Remove-Job $job -Force }
        }

        It 'stops the map and its busy workers with Stop-Job' {
            $jobPool = New-TestPool -Size 2
            try {
                $job = 1..10 | Invoke-PoolMap -Pool $jobPool -ChunkSize 1 -AsJob { Start-Sleep 60 }
                Wait-Until { $jobPool.Busy -eq 2 } | Should -BeTrue
                $busy = $jobPool.WorkerProcessIds
                Stop-Job $job
                $job.State | Should -Be 'Stopped'
                Wait-ProcessGone $busy | Should -BeNullOrEmpty
                Remove-Job $job
                Get-Job -Id $job.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            }
            finally { Remove-TestPool $jobPool }
        }

        It 'marks the job Failed with the map''s error when the run times out' {
            $job = 1..4 | Invoke-PoolMap -Pool $pool -AsJob -ChunkSize 1 -TimeoutSeconds 1 { Start-Sleep 30 }
            try {
                $null = Wait-Job $job -Timeout 60
                $job.State | Should -Be 'Failed'
                $job.Error[0].FullyQualifiedErrorId | Should -BeLike 'PoolRunTimeout*'
            }
            finally { Remove-Job $job -Force }
        }
    }

    Context 'JobLogPath' {
        It 'writes a header and one tab-separated line per item with pid, attempts and outcome' {
            $log = Join-Path $TestDrive 'job.log'
            $null = 1..5 | Invoke-PoolMap -Pool $pool -JobLogPath $log { if ($_ -eq 3) { throw 'bad three' }; $_ } -ErrorAction SilentlyContinue
            $lines = Get-Content $log
            $lines[0] | Should -Be "Seq`tWorkerPid`tStartUtc`tSeconds`tAttempts`tOutcome`tError`tHost"
            $lines.Count | Should -Be 6
            $rows = $lines | Select-Object -Skip 1 | ForEach-Object { , ($_ -split "`t") }
            $rows | ForEach-Object { $_.Count | Should -Be 8 }
            $rows | ForEach-Object { $_[7] | Should -Be 'localhost' }
            $rows | ForEach-Object { $pool.GetAllStartedProcessIds() | Should -Contain ([int]$_[1]) }
            $failed = @($rows | Where-Object { $_[5] -eq 'Failed' })
            $failed.Count | Should -Be 1
            $failed[0][0] | Should -Be '2'
            $failed[0][4] | Should -Be '1'
            $failed[0][6] | Should -BeLike '*bad three'
            @($rows | Where-Object { $_[5] -eq 'Succeeded' }).Count | Should -Be 4
        }

        It 'fails with PoolJobLogFailed when the log cannot be created' {
            { 1 | Invoke-PoolMap -Pool $pool -JobLogPath (Join-Path $TestDrive 'no/such/dir/job.log') { $_ } } | Should -Throw -ErrorId 'PoolJobLogFailed,ProcessPool.Commands.InvokePoolMapCommand'
        }
    }

    Context 'AssemblyPath and Method' {
        It 'runs a static .NET method for each item' {
            1..5 | Invoke-PoolMap -Pool $pool -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::Double' | Should -Be 2, 4, 6, 8, 10
        }

        It 'reports a method that throws as PoolItemFailed for that item only' {
            $out = 1, -2, 3 | Invoke-PoolMap -Pool $pool -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::ThrowIfNegative' -ErrorVariable failures -ErrorAction SilentlyContinue
            $out | Should -Be 1, 3
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'PoolItemFailed,*'
            $failures[0].Exception.RemoteType | Should -Be 'System.ArgumentOutOfRangeException'
            $failures[0].TargetObject | Should -Be -2
        }

        It 'fails with PoolMapDefinitionFailed for a method that does not exist' {
            { 1 | Invoke-PoolMap -Pool $pool -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::NoSuchMethod' } | Should -Throw -ErrorId 'PoolMapDefinitionFailed,ProcessPool.Commands.InvokePoolMapCommand'
        }

        It 'fails with PoolMapDefinitionFailed for an assembly that does not exist' {
            { 1 | Invoke-PoolMap -Pool $pool -AssemblyPath (Join-Path $TestDrive 'missing.dll') -Method 'A.B::C' } | Should -Throw -ErrorId 'PoolMapDefinitionFailed,ProcessPool.Commands.InvokePoolMapCommand'
        }

        It 'completes -Method with the assembly''s public static methods' {
            $line = "Invoke-PoolMap -AssemblyPath '$methods' -Method ProcessPool.TestMethods."
            $offered = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
            $offered | Should -Contain "'ProcessPool.TestMethods.Payloads::Double'"
            $offered | Should -Contain "'ProcessPool.TestMethods.Payloads::DoubleAsync'"
            $offered | Should -Not -Contain "'ProcessPool.TestMethods.Instance::NotStatic'"
        }
    }

    Context 'using variables' {
        It 'captures $using: values in the caller when the map starts' {
            $word = 'caller'; $list = 1, 2, 3
            1 | Invoke-PoolMap -Pool $pool { "$using:word $($using:word.Length) $($using:list[1]) $(($using:list).Count)" } | Should -Be 'caller 6 2 3'
        }

        It 'fails with UsingVariableNotFound before running anything when a $using: variable does not exist' {
            { 1 | Invoke-PoolMap -Pool $pool { $using:doesNotExistAnywhere } } | Should -Throw -ErrorId 'UsingVariableNotFound,ProcessPool.Commands.InvokePoolMapCommand'
        }
    }

    Context 'Verbose' {
        It 'tells the pool''s story: workers recycled and started' {
            $story = New-TestPool -Size 1 -Options @{ MaxTasksPerWorker = 2 }
            try {
                $lines = 1..6 | Invoke-PoolMap -Pool $story -ChunkSize 1 { $_ } -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message
                $lines | Where-Object { $_ -like '*recycled*' } | Should -Not -BeNullOrEmpty
                $lines | Where-Object { $_ -like '*launched*' -or $_ -like '*ready*' } | Should -Not -BeNullOrEmpty
            }
            finally { Remove-TestPool $story }
        }
    }

    Context 'Stopping' {
        It 'stops the rest quickly after Select-Object -First and leaves no worker running the map' {
            $stopPool = New-TestPool -Size 2
            try {
                # Both workers ready first: a worker still starting when the map stops never ran it, and idles on.
                Wait-Until { $stopPool.Idle -eq 2 } | Should -BeTrue
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $out = 1..100 | Invoke-PoolMap -Pool $stopPool -ChunkSize 1 { if ($_ -gt 2) { Start-Sleep 60 }; $_ } | Select-Object -First 2
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
                $out | Should -Be 1, 2
                $started = $stopPool.GetAllStartedProcessIds()
                Wait-ProcessGone $started | Should -BeNullOrEmpty
            }
            finally { Remove-TestPool $stopPool }
        }

        It 'stops within two seconds of Ctrl+C and leaves no worker running the map' {
            $stopPool = New-TestPool -Size 2
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript('param($m, $p) Import-Module $m; 1..100 | Invoke-PoolMap -Pool $p -ChunkSize 1 { Start-Sleep 60; $_ }').AddArgument((Get-Module ProcessPool).Path).AddArgument($stopPool)
                $handle = $ps.BeginInvoke()
                Wait-Until { $stopPool.Busy -eq 2 } | Should -BeTrue
                $busy = $stopPool.WorkerProcessIds
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $ps.Stop()
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 2
                $ps.InvocationStateInfo.State | Should -Be 'Stopped'
                Wait-ProcessGone $busy -TimeoutSeconds 2 | Should -BeNullOrEmpty
            }
            finally {
                $ps.Dispose()
                Remove-TestPool $stopPool
            }
        }
    }

    Context 'README one-liner' {
        It 'hashes every file like the same pipeline with ForEach-Object' {
            $root = Join-Path $TestDrive 'tree'
            foreach ($i in 1..60) {
                $dir = Join-Path $root ("d{0}" -f ($i % 4))
                $null = New-Item -ItemType Directory -Path $dir -Force
                Set-Content -LiteralPath (Join-Path $dir "f$i.txt") -Value ("content $i " * $i)
            }
            Push-Location $root
            try {
                $pooled = Get-ChildItem -Recurse -File | Invoke-PoolMap { (Get-FileHash $_.FullName).Hash }
                $serial = Get-ChildItem -Recurse -File | ForEach-Object { (Get-FileHash $_.FullName).Hash }
            }
            finally { Pop-Location }
            $pooled.Count | Should -Be 60
            $pooled | Should -Be $serial
        }
    }
}
