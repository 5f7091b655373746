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

        It 'runs begin, process and end once per item, as ForEach-Object -Parallel does' {
            1..3 | Invoke-PoolMap -Pool $pool -ChunkSize 3 { begin { 'b' } process { "p$_" } end { 'e' } } | Should -Be 'b', 'p1', 'e', 'b', 'p2', 'e', 'b', 'p3', 'e'
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

        It 'shows no raw byte buffer for a failed item in Get-Error' {
            $null = 1 | Invoke-PoolMap -Pool $pool { throw 'boom' } -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures[0].Exception.PSObject.Properties | Where-Object { $_.Value -is [byte[]] } | Should -BeNullOrEmpty
            $shown = $failures[0] | Get-Error | Out-String -Width 200
            ($shown -split "`n").Count | Should -BeLessThan 100
        }

        It 'names an item that kills its worker by its position from 1 and its value' {
            $crashPool = New-TestPool -Size 1
            try {
                $out = 1..3 | Invoke-PoolMap -Pool $crashPool -ChunkSize 1 { if ($_ -eq 3) { [Environment]::Exit(3) }; $_ } -ErrorVariable failures -ErrorAction SilentlyContinue
                $out | Should -Be 1, 2
                $failures.Count | Should -Be 1
                $failures[0].FullyQualifiedErrorId | Should -BeLike 'PoolWorkerTerminated,*'
                $failures[0].Exception.ItemNumber | Should -Be 3
                $failures[0].Exception.Message | Should -BeLike 'Item #3 (3) killed its worker*'
            }
            finally { Remove-TestPool $crashPool }
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

        It 'keeps the driver''s enumerator out of the block''s reach, so an item cannot skip the next' {
            $seen = 1..6 | Invoke-PoolMap -Pool $pool -ChunkSize 6 {
                $item = $_
                # Every enumerator the block can find, by name or in any enclosing scope, is pushed once.
                $candidates = @($__pp, $foreach) + @(foreach ($scope in 1..10) {
                        try { Get-Variable -Scope $scope -ErrorAction Stop | Where-Object Name -NE 'input' | ForEach-Object Value } catch { break }
                    })
                $moved = foreach ($candidate in $candidates) {
                    if ($candidate -is [System.Collections.IEnumerator]) { try { $candidate.MoveNext() } catch { $false } }
                }
                '{0}:{1}' -f $item, (@($moved) -contains $true)
            }
            $seen | Should -Be '1:False', '2:False', '3:False', '4:False', '5:False', '6:False'
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

        It 'runs the block once with $_ as $null without any input, as ForEach-Object -Parallel does' {
            Invoke-PoolMap -Pool $pool { "ran [$_] $($null -eq $_)" } | Should -Be 'ran [] True'
        }

        It 'runs nothing for an empty pipeline' {
            @() | Invoke-PoolMap -Pool $pool { 'ran' } | Should -BeNullOrEmpty
        }

        It 'carries strings with lone surrogates both ways, as CliXml does' {
            $lone = 'a' + [char]0xD800 + 'b'
            $other = 'x' + [char]0xDFFF
            $back = $lone, $other | Invoke-PoolMap -Pool $pool { $_.Length; $_ + [char]0xDC01 } -ErrorVariable failures
            $failures | Should -BeNullOrEmpty
            $back | Should -Be 3, ($lone + [char]0xDC01), 2, ($other + [char]0xDC01)
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

        It 'keeps a note property added to a string or a number, both ways' {
            $tagged = 'text' | Add-Member -NotePropertyName Tag -NotePropertyValue 7 -PassThru
            $tagged, 5 | Invoke-PoolMap -Pool $pool { "$_|$($_.Tag)" } | Should -Be 'text|7', '5|'
            $back = 1 | Invoke-PoolMap -Pool $pool { 42 | Add-Member -NotePropertyName Tag -NotePropertyValue 'x' -PassThru }
            $back | Should -Be 42
            $back.Tag | Should -Be 'x'
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

    Context 'ThrottleLimit' {
        It 'runs the map on a default pool of that many workers' {
            $name = if ([Environment]::ProcessorCount -eq 1) { 'Default' } else { 'Default-1' }
            try {
                $ids = @(1..6 | Invoke-PoolMap -ThrottleLimit 1 -ChunkSize 1 { $PID } | Sort-Object -Unique)
                $throttled = Get-ProcessPool -Name $name
                $throttled.Size | Should -Be 1
                $throttled.IsDefault | Should -BeTrue
                $ids.Count | Should -Be 1
                $ids[0] | Should -BeIn @($throttled.WorkerProcessIds)
            }
            finally { if ($name -ne 'Default') { Remove-TestPool (Get-ProcessPool -Name $name -ErrorAction SilentlyContinue) } }
        }

        It 'fails with PoolThrottleLimitWithPool together with -Pool' {
            { 1 | Invoke-PoolMap -Pool $pool -ThrottleLimit 2 { $_ } } | Should -Throw -ErrorId 'PoolThrottleLimitWithPool,ProcessPool.Commands.InvokePoolMapCommand'
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

    Context 'Streaming output' {
        BeforeAll {
            # Each record that reaches the caller's pipeline, with the time it arrived there.
            function Measure-Arrival([Parameter(ValueFromPipeline)] $Record) {
                begin { $clock = [Diagnostics.Stopwatch]::StartNew() }
                process { [pscustomobject]@{ Record = $Record; Seconds = $clock.Elapsed.TotalSeconds } }
            }
        }

        It 'writes the first output of a 3 s item while it runs, as ForEach-Object -Parallel does' {
            $arrivals = Invoke-PoolMap -Pool $pool { 'first'; Start-Sleep 3; 'second' } | Measure-Arrival
            $arrivals.Record | Should -Be 'first', 'second'
            # A lower bound that holds on any machine: delivered at the item's end, both would arrive together.
            ($arrivals[1].Seconds - $arrivals[0].Seconds) | Should -BeGreaterThan 2
        }

        It 'keeps input order: an item''s early output waits for the items before it' {
            $arrivals = 1, 2 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { "a$_"; Start-Sleep 3; "b$_" } | Measure-Arrival
            $arrivals.Record | Should -Be 'a1', 'b1', 'a2', 'b2'
            ($arrivals[1].Seconds - $arrivals[0].Seconds) | Should -BeGreaterThan 2 -Because 'a1 arrives while item 1 still sleeps'
        }

        It 'writes an item''s verbose records while it runs' {
            $arrivals = Invoke-PoolMap -Pool $pool -Verbose { Write-Verbose 'item says hello'; Start-Sleep 3; 'done' } 4>&1 |
                Measure-Arrival | Where-Object { $_.Record -eq 'done' -or ($_.Record -is [System.Management.Automation.VerboseRecord] -and $_.Record.Message -eq 'item says hello') }
            $arrivals.Count | Should -Be 2
            $arrivals[0].Record.Message | Should -Be 'item says hello'
            ($arrivals[1].Seconds - $arrivals[0].Seconds) | Should -BeGreaterThan 2
        }

        It 'writes an item''s progress while it runs, also into a job (-AsJob)' {
            $flag = Join-Path $TestDrive 'progress-seen.flag'
            $job = Invoke-PoolMap -Pool $pool -AsJob {
                Write-Progress -Activity 'copying' -Status 'half'; 'started'
                # Runs until the caller has seen both: they must have come while it ran.
                $clock = [Diagnostics.Stopwatch]::StartNew()
                while (-not (Test-Path -LiteralPath $using:flag) -and $clock.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 50 }
                'done'
            }
            try {
                Wait-Until { @($job.Progress | Where-Object Activity -EQ 'copying').Count -gt 0 -and @($job.Output).Count -gt 0 } -TimeoutSeconds 30 | Should -BeTrue
                $job.State | Should -Be 'Running'
                Receive-Job $job | Should -Be 'started'
                $null = New-Item -ItemType File -Path $flag
                $null = Wait-Job $job -Timeout 60
                Receive-Job $job | Should -Be 'done'
            }
            finally { Remove-Job $job -Force }
        }
    }

    Context 'ArgumentList' {
        It 'binds the arguments to the block''s param() block for every item' {
            1..3 | Invoke-PoolMap -Pool $pool -ArgumentList 10, 'x' { param($add, $suffix) "$($_ + $add)$suffix" } | Should -Be '11x', '12x', '13x'
        }
    }

    Context 'Spread' {
        It 'binds an array item to the block''s param() by position (starmap)' {
            ,@(1, 2), ,@(3, 4) | Invoke-PoolMap -Pool $pool -Spread { param($a, $b) $a + $b } | Should -Be 3, 7
            @(1, 2), @(3, 4) | Invoke-PoolMap -Pool $pool -Spread { param($a, $b) $a + $b } | Should -Be 3, 7
        }

        It 'binds a hashtable or object item by name, like splatting' {
            $items = @{ Path = 'a'; Depth = 2 }, [pscustomobject]@{ Depth = 3; Path = 'b' }
            $items | Invoke-PoolMap -Pool $pool -Spread { param($Path, $Depth) "$Path/$Depth" } | Should -Be 'a/2', 'b/3'
        }

        It 'keeps the whole item in $_' {
            @(1, 2), @{ Name = 'x' } | Invoke-PoolMap -Pool $pool -Spread { param($a) $_.GetType().Name } | Should -Be 'Object[]', 'Hashtable'
        }

        It 'passes any other value as the one positional argument, then -ArgumentList' {
            5, 'text' | Invoke-PoolMap -Pool $pool -Spread -ArgumentList 'extra' { param($value, $more) "$value+$more" } | Should -Be '5+extra', 'text+extra'
        }

        It 'binds the spread arguments of a block with a process block too' {
            ,@(1, 2) | Invoke-PoolMap -Pool $pool -Spread { param($a, $b) process { $a * $b } } | Should -Be 2
        }

        It 'spreads an array item over a static method''s parameters' {
            ,@(1, 2), ,@(3, 4) | Invoke-PoolMap -Pool $pool -Spread -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::Add' | Should -Be 3, 7
        }

        It 'binds a hashtable item to a static method''s parameters by name' {
            @{ label = 'x'; value = 2 }, @{ Label = 'y'; Value = 2; Factor = 3 } |
                Invoke-PoolMap -Pool $pool -Spread -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::Scale' | Should -Be 'x=20', 'y=6'
        }

        It 'fails an item whose value does not convert to the parameter type with PoolItemFailed, naming the parameter' {
            $out = @(1, 1), @(1, 'two'), @(2, 2) | Invoke-PoolMap -Pool $pool -Spread -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::Add' -ErrorVariable failures -ErrorAction SilentlyContinue
            $out | Should -Be 2, 4
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'PoolItemFailed,*'
            $failures[0].Exception.RemoteType | Should -Be 'System.Text.Json.JsonException'
            $failures[0].Exception.RemoteMessage | Should -BeLike "*parameter 'b'*"
            $failures[0].TargetObject | Should -Be 1, 'two'
        }
    }

    Context 'ItemTimeoutSeconds' {
        # Five seconds, not one: on a loaded machine an innocent item re-run on a replacement worker that is still
        # warming up for the map can take over a second, and would time out too.
        It 'fails only the slow item with PoolItemTimeout, kills its worker and goes on' {
            $timeoutPool = New-TestPool -Size 2
            try {
                $out = 1..4 | Invoke-PoolMap -Pool $timeoutPool -ChunkSize 1 -ItemTimeoutSeconds 5 { if ($_ -eq 2) { $PID; Start-Sleep 60 }; $_ } -ErrorVariable failures -ErrorAction SilentlyContinue
                # What the slow item wrote before it timed out (its worker's pid) is delivered, then its error.
                $out | Should -Be 1, $out[1], 3, 4
                $out[1] | Should -Not -BeIn $timeoutPool.WorkerProcessIds -Because 'the worker that ran it was killed and replaced'
                $failures.Count | Should -Be 1
                $failures[0].FullyQualifiedErrorId | Should -BeLike 'PoolItemTimeout,*'
                $failures[0].TargetObject | Should -Be 2
                $failures[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
                $timeoutPool.WorkersLost | Should -BeGreaterOrEqual 1
            }
            finally { Remove-TestPool $timeoutPool }
        }

        It 'names the item by its position from 1 and a short form of it, in the error and in the job log' {
            $timeoutPool = New-TestPool -Size 2
            $log = Join-Path $TestDrive 'timeout.log'
            try {
                $out = 'alpha', 'beta', 'gamma' | Invoke-PoolMap -Pool $timeoutPool -ChunkSize 1 -ItemTimeoutSeconds 5 -JobLogPath $log { if ($_ -eq 'beta') { Start-Sleep 60 }; $_ } -ErrorVariable failures -ErrorAction SilentlyContinue
                $out | Should -Be 'alpha', 'gamma'
                $failures[0].Exception.ItemNumber | Should -Be 2
                $failures[0].Exception.Message | Should -BeLike "Item #2 ('beta') ran longer than 5 s*"
                $row = Get-Content $log | Select-Object -Skip 1 | ForEach-Object { , ($_ -split "`t") } | Where-Object { $_[5] -eq 'TimedOut' }
                $row[0] | Should -Be '2'
                $row[6] | Should -BeLike "Item #2 ('beta') ran longer*"
            }
            finally { Remove-TestPool $timeoutPool }
        }
    }

    Context 'TimeoutSeconds' {
        It 'stops the whole run, terminating with PoolRunTimeout under -ErrorAction Stop, and leaves no worker running it' {
            $runPool = New-TestPool -Size 2
            try {
                # Both workers ready first: one still starting when the run stops is not running it, and rightly stays.
                Wait-Until { $runPool.Idle -eq 2 } | Should -BeTrue
                $busy = $runPool.WorkerProcessIds
                $clock = [Diagnostics.Stopwatch]::StartNew()
                { 1..10 | Invoke-PoolMap -Pool $runPool -ChunkSize 1 -TimeoutSeconds 1 -ErrorAction Stop { Start-Sleep 60; $_ } } | Should -Throw -ErrorId 'PoolRunTimeout,ProcessPool.Commands.InvokePoolMapCommand'
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
                Wait-ProcessGone $busy | Should -BeNullOrEmpty
            }
            finally { Remove-TestPool $runPool }
        }

        It 'writes what finished before the timeout, then reports the timeout as a non-terminating PoolRunTimeout' {
            $out = 1..4 | Invoke-PoolMap -Pool $pool -ChunkSize 1 -TimeoutSeconds 5 { if ($_ -eq 1) { 'done before' } else { Start-Sleep 60 } } -ErrorVariable failures -ErrorAction SilentlyContinue
            $out | Should -Be 'done before'
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'PoolRunTimeout,ProcessPool.Commands.InvokePoolMapCommand'
        }

        It 'lets the script go on after the timeout, as ForEach-Object -Parallel does' {
            $after = & { 1..2 | Invoke-PoolMap -Pool $pool -ChunkSize 1 -TimeoutSeconds 1 { Start-Sleep 60 } -ErrorAction SilentlyContinue; 'next statement' }
            $after | Should -Be 'next statement'
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
        BeforeAll {
            # Runs a map of about 1.5 s in a fresh runspace of this process and returns its Invoke-PoolMap progress
            # records. This Pester host was started with -NonInteractive: progress is written all the same, as
            # PowerShell's own cmdlets write it, and the host decides what to show.
            function Get-MapProgress([hashtable] $Extra = @{}, [string] $Preference = 'Continue') {
                $ps = [powershell]::Create()
                try {
                    # A pool of its own fixed size, so the run lasts about as long on any number of cores.
                    $null = $ps.AddScript({
                            param($module, $extra, $preference)
                            $ProgressPreference = $preference
                            Import-Module $module
                            $p = New-ProcessPool -Size 2
                            try { 1..30 | Invoke-PoolMap -Pool $p @extra -ChunkSize 1 { Start-Sleep -Milliseconds 100; $_ } | Out-Null }
                            finally { Remove-ProcessPool $p -Force }
                        }.ToString()).AddArgument((Get-Module ProcessPool).Path).AddArgument($Extra).AddArgument($Preference)
                    $null = $ps.Invoke()
                    @($ps.Streams.Progress | Where-Object Activity -EQ 'Invoke-PoolMap')
                }
                finally { $ps.Dispose() }
            }
        }

        It 'shows a throttled progress bar with the time left once and a final Completed record, also in a host started with -NonInteractive' {
            $records = Get-MapProgress
            $records.Count | Should -BeGreaterThan 1
            $records.Count | Should -BeLessThan 30 # throttled: fewer updates than items
            @($records | Where-Object RecordType -EQ 'Completed').Count | Should -Be 1
            $updates = @($records | Where-Object RecordType -NE 'Completed')
            $updates.StatusDescription | Where-Object { $_ -match '\bleft\b|remaining' } | Should -BeNullOrEmpty -Because 'the host shows SecondsRemaining; the status does not repeat it'
            @($updates | Where-Object SecondsRemaining -GE 0).Count | Should -BeGreaterThan 0 -Because 'once input ended the total is known, and so is the time left'
        }

        It 'shows none with -NoProgress' {
            Get-MapProgress -Extra @{ NoProgress = $true } | Should -BeNullOrEmpty
        }

        It 'shows none when $ProgressPreference is SilentlyContinue' {
            Get-MapProgress -Preference SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'shows items'' progress under the map''s bar and closes the bar when -TimeoutSeconds stops the run' {
            $script = {
                param($module)
                $ps = [powershell]::Create()
                $null = $ps.AddScript('Import-Module $args[0]; $p = New-ProcessPool -Size 2; 1..40 | Invoke-PoolMap -Pool $p -ChunkSize 1 -TimeoutSeconds 3 -ErrorAction SilentlyContinue { Write-Progress -Activity "item $_" -Status working; Start-Sleep -Milliseconds 200 } | Out-Null; Remove-ProcessPool $p').AddArgument($module)
                $null = $ps.Invoke()
                $map = @($ps.Streams.Progress | Where-Object Activity -EQ 'Invoke-PoolMap')
                $items = @($ps.Streams.Progress | Where-Object Activity -Like 'item *')
                '{0}/{1}/{2}' -f @($map | Where-Object RecordType -EQ 'Completed').Count, $items.Count, @($items | Where-Object { $_.ParentActivityId -ne $map[0].ActivityId }).Count
            }
            $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes("& { $script } '$((Get-Module ProcessPool).Path)'"))
            $completed, $items, $orphans = ((Invoke-PowerShell '-NoProfile', '-EncodedCommand', $encoded) | Select-Object -Last 1) -split '/'
            $completed | Should -Be 1
            [int]$items | Should -BeGreaterThan 0
            $orphans | Should -Be 0
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
                $job.JobStateInfo.Reason | Should -Not -BeNullOrEmpty
                $job.JobStateInfo.Reason.GetType().Name | Should -Be 'PoolTimeoutException'
            }
            finally { Remove-Job $job -Force }
        }

        It 'marks the job Failed with the first item failure as the reason when items failed, as ForEach-Object -Parallel -AsJob does' {
            $job = 1..3 | Invoke-PoolMap -Pool $pool -AsJob -ChunkSize 1 { if ($_ -eq 2) { throw 'item two fails' }; $_ }
            try {
                $null = Wait-Job $job -Timeout 60
                $job.State | Should -Be 'Failed'
                $job.JobStateInfo.Reason | Should -Not -BeNullOrEmpty
                @($job.Error)[0].FullyQualifiedErrorId | Should -BeLike 'PoolItemFailed*'
                Receive-Job $job -ErrorAction SilentlyContinue | Should -Be 1, 3
            }
            finally { Remove-Job $job -Force }
        }

        It 'ends Completed when items only wrote non-terminating errors' {
            $job = 1..2 | Invoke-PoolMap -Pool $pool -AsJob { Write-Error 'written, not thrown'; $_ }
            try {
                $null = Wait-Job $job -Timeout 60
                $job.State | Should -Be 'Completed'
            }
            finally { Remove-Job $job -Force }
        }

        It 'keeps progress in the job (the map''s bar, items'' records as its children) and reports HasMoreData' {
            $job = 1..4 | Invoke-PoolMap -Pool $pool -AsJob -ChunkSize 1 { Write-Progress -Activity "item $_" -Status 'working'; Start-Sleep -Milliseconds 800; $_ }
            try {
                $null = Wait-Job $job -Timeout 60
                $job.ChildJobs.Count | Should -Be 0
                $job.HasMoreData | Should -BeTrue
                $map = @($job.Progress | Where-Object Activity -EQ 'Invoke-PoolMap')
                $map.Count | Should -BeGreaterThan 0
                $map[-1].RecordType | Should -Be 'Completed'
                $items = @($job.Progress | Where-Object Activity -Like 'item *')
                $items.Count | Should -Be 4
                $items.ParentActivityId | Sort-Object -Unique | Should -Be $map[0].ActivityId
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
            $failed[0][0] | Should -Be '3' -Because 'Seq counts from 1, as the item #3 of messages does'
            $failed[0][4] | Should -Be '1'
            $failed[0][6] | Should -BeLike '*bad three'
            @($rows | Where-Object { $_[5] -eq 'Succeeded' }).Count | Should -Be 4
        }

        It 'refuses a symbolic link with PoolJobLogFailed and leaves the file it points to alone' -Skip:$IsWindows {
            $target = Join-Path $TestDrive 'precious.txt'
            Set-Content -LiteralPath $target -Value 'keep me'
            $link = Join-Path $TestDrive 'linked.log'
            $null = New-Item -ItemType SymbolicLink -Path $link -Target $target
            { 1 | Invoke-PoolMap -Pool $pool -JobLogPath $link { $_ } } | Should -Throw -ErrorId 'PoolJobLogFailed,ProcessPool.Commands.InvokePoolMapCommand'
            Get-Content -LiteralPath $target | Should -Be 'keep me'
        }

        It 'creates the log with the default permissions less the umask, and overwrites an existing log' -Skip:$IsWindows {
            $log = Join-Path $TestDrive 'mode.log'
            $null = 1..2 | Invoke-PoolMap -Pool $pool -JobLogPath $log { $_ }
            $umask = [Convert]::ToInt32((sh -c umask).Trim(), 8)
            [int](Get-Item -LiteralPath $log).UnixFileMode | Should -Be (0x1B6 -band -bnot $umask) # 0666 less the umask
            $null = 1 | Invoke-PoolMap -Pool $pool -JobLogPath $log { $_ }
            @(Get-Content -LiteralPath $log).Count | Should -Be 2
        }

        It 'writes a relative log path under the current location' {
            Push-Location $TestDrive
            try { $null = 1 | Invoke-PoolMap -Pool $pool -JobLogPath 'relative.log' { $_ } }
            finally { Pop-Location }
            Join-Path $TestDrive 'relative.log' | Should -Exist
        }

        It 'fails with PoolJobLogFailed when the log cannot be created' {
            { 1 | Invoke-PoolMap -Pool $pool -JobLogPath (Join-Path $TestDrive 'no/such/dir/job.log') { $_ } } | Should -Throw -ErrorId 'PoolJobLogFailed,ProcessPool.Commands.InvokePoolMapCommand'
        }
    }

    Context 'AssemblyPath and Method' {
        It 'runs a static .NET method for each item' {
            1..5 | Invoke-PoolMap -Pool $pool -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::Double' | Should -Be 2, 4, 6, 8, 10
        }

        It 'resolves a relative assembly path against the current location' {
            Push-Location (Split-Path $methods)
            try { 1, 2 | Invoke-PoolMap -Pool $pool -AssemblyPath "./$(Split-Path $methods -Leaf)" -Method 'ProcessPool.TestMethods.Payloads::Double' | Should -Be 2, 4 }
            finally { Pop-Location }
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

    Context 'Nesting' {
        # Each nested level runs on a one-worker pool of its own that the item removes, so no process outlives the test.
        It 'runs Invoke-PoolMap inside an item with the module imported by path' {
            (Get-Module ProcessPool).Path | Should -Not -BeNullOrEmpty
            $out = 1 | Invoke-PoolMap -Pool $pool { $p = New-ProcessPool -Size 1; try { 1..2 | Invoke-PoolMap -Pool $p { $_ * 10 } } finally { Remove-ProcessPool $p } }
            $out | Should -Be 10, 20
        }

        It 'gives each level its own $using: when the names differ' {
            $Test1 = 'Test1'
            $out = 1 | Invoke-PoolMap -Pool $pool { $using:Test1; $Test2 = 'Test2'; $p = New-ProcessPool -Size 1; try { 1..2 | Invoke-PoolMap -Pool $p { $using:Test2 } } finally { Remove-ProcessPool $p } }
            $out | Should -Be 'Test1', 'Test2', 'Test2'
        }

        It 'gives each level its own $using: when the names are the same' {
            $Same = 'outer'
            $out = 1 | Invoke-PoolMap -Pool $pool { $using:Same; $Same = 'inner'; $p = New-ProcessPool -Size 1; try { 1 | Invoke-PoolMap -Pool $p { $using:Same } } finally { Remove-ProcessPool $p } }
            $out | Should -Be 'outer', 'inner'
        }

        It 'leaves the $using: of a nested ForEach-Object -Parallel or Start-ThreadJob block to that command' {
            $out = 1 | Invoke-PoolMap -Pool $pool {
                $Inner = 'inner'
                1 | ForEach-Object -Parallel { "parallel $using:Inner" }
                Start-ThreadJob { "thread job $using:Inner" } | Receive-Job -Wait -AutoRemoveJob
            }
            $out | Should -Be 'parallel inner', 'thread job inner'
        }

        It 'runs Invoke-PoolMap inside an item when the module folder is not named after the module' {
            $copy = Join-Path $TestDrive 'unusual-folder'
            Copy-Item -Path (Split-Path (Get-Module ProcessPool).Path) -Destination $copy -Recurse
            $manifest = Join-Path $copy 'ProcessPool.psd1'
            $script = "Import-Module '$($manifest -replace "'", "''")'; `$p = New-ProcessPool -Size 1; try { 1 | Invoke-PoolMap -Pool `$p { `$q = New-ProcessPool -Size 1; try { 1..2 | Invoke-PoolMap -Pool `$q { `$_ + 1 } } finally { Remove-ProcessPool `$q } } } finally { Remove-ProcessPool `$p }"
            $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))
            $out = Invoke-PowerShell '-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded
            $out | Should -Be '2', '3'
        }

        It 'still captures $using: in nested blocks that run in the item itself' {
            $Factor = 3
            1 | Invoke-PoolMap -Pool $pool { 1, 2 | ForEach-Object { $_ * $using:Factor } | Where-Object { $_ -gt $using:Factor } } | Should -Be 6
        }

        It 'leaves the $using: of script blocks passed as variables to the level that runs them' {
            $Level = 'outer'
            $outer = { $using:Level; $Level = 'inner'; $block = { "inner sees $using:Level" }; $p = New-ProcessPool -Size 1; try { 1 | Invoke-PoolMap -Pool $p $block } finally { Remove-ProcessPool $p } }
            1 | Invoke-PoolMap -Pool $pool $outer | Should -Be 'outer', 'inner sees inner'
        }

        It 'reports an inner $using: undefined at its own level as UsingVariableNotFound, not as $null' {
            $Undefined = 'defined only in the caller'
            $out = 1 | Invoke-PoolMap -Pool $pool { $p = New-ProcessPool -Size 1; try { 1 | Invoke-PoolMap -Pool $p { "got [$using:Undefined]" } } finally { Remove-ProcessPool $p } } -ErrorVariable failures -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'UsingVariableNotFound,ProcessPool.Commands.InvokePoolMapCommand'
        }
    }

    Context 'Errors from items' {
        It 'keeps the worker''s own FullyQualifiedErrorId for an error an item wrote' {
            $null = 1 | Invoke-PoolMap -Pool $pool { Get-Item -LiteralPath (Join-Path ([IO.Path]::GetTempPath()) ([guid]::NewGuid())) } -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand'
            $failures[0].TargetObject | Should -Be 1
        }

        It 'keeps it unchanged through nested maps' {
            $null = 1 | Invoke-PoolMap -Pool $pool { $p = New-ProcessPool -Size 1; try { 1 | Invoke-PoolMap -Pool $p { Get-Item -LiteralPath (Join-Path ([IO.Path]::GetTempPath()) ([guid]::NewGuid())) } } finally { Remove-ProcessPool $p } } -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand'
        }

        It 'keeps the module''s own id for an item that threw' {
            $null = 1 | Invoke-PoolMap -Pool $pool { throw 'thrown' } -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures[0].FullyQualifiedErrorId | Should -Be 'PoolItemFailed,ProcessPool.Commands.InvokePoolMapCommand'
        }
    }

    Context 'Verbose' {
        It 'relays console output without line breaks cut to a bounded length, and the lines after it whole' {
            $flag = Join-Path $TestDrive 'output-seen.flag'
            # 20 million characters without a line break, written by a child of the item, as a binary dump would be.
            $writer = if ($IsWindows) { '[Console]::Error.Write([string]::new([char]''x'', 20000000)); [Console]::Error.WriteLine(); [Console]::Error.WriteLine(''after'')' }
            else {
                # A child that inherits the worker's stderr (a native command's stderr would be captured as error records).
                '$info = [Diagnostics.ProcessStartInfo]::new(''sh''); $info.ArgumentList.Add(''-c''); ' +
                '$info.ArgumentList.Add(''head -c 20000000 /dev/zero | tr "\000" x >&2; printf "\nafter\n" >&2''); ' +
                '[Diagnostics.Process]::Start($info).WaitForExit()'
            }
            $job = 1 | Invoke-PoolMap -Pool $pool -AsJob -ArgumentList $writer {
                param($writer)
                & ([scriptblock]::Create($writer))
                # Waits until the caller has seen the output, which travels apart from the results.
                $clock = [Diagnostics.Stopwatch]::StartNew()
                while (-not (Test-Path -LiteralPath $using:flag) -and $clock.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 50 }
                'done'
            }
            try {
                Wait-Until { @($job.Verbose | Where-Object { $_.Message -like '*: after' }).Count -gt 0 } -TimeoutSeconds 60 | Should -BeTrue
                $null = New-Item -ItemType File -Path $flag
                $null = Wait-Job $job -Timeout 60
                $longest = ($job.Verbose | ForEach-Object { $_.Message.Length } | Measure-Object -Maximum).Maximum
                Receive-Job $job | Should -Be 'done'
                $longest | Should -BeGreaterThan 16384 -Because 'the long line is relayed, cut'
                $longest | Should -BeLessThan (16384 + 300) -Because 'no relayed line is longer than the cap and its marker'
            }
            finally { Remove-Job $job -Force }
        }

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

    Context 'Environment and current directory' {
        AfterEach { Remove-Item env:PP_TEST_VAR, env:PP_TEST_LEAK -ErrorAction SilentlyContinue }

        It 'runs each map with the caller''s environment as it is when the map starts' {
            $env:PP_TEST_VAR = 'first'
            1..4 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { $env:PP_TEST_VAR } | Should -Be 'first', 'first', 'first', 'first'
            $env:PP_TEST_VAR = 'second'
            1..4 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { $env:PP_TEST_VAR } | Should -Be 'second', 'second', 'second', 'second'
            Remove-Item env:PP_TEST_VAR
            1..4 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { $null -eq $env:PP_TEST_VAR } | Should -Be $true, $true, $true, $true
        }

        It 'passes the caller''s environment on to the processes an item starts' -Skip:$IsWindows {
            $env:PP_TEST_VAR = 'for children'
            1 | Invoke-PoolMap -Pool $pool { sh -c 'echo $PP_TEST_VAR' } | Should -Be 'for children'
        }

        It 'does not let what one map sets or removes reach the next, <Name>' -TestCases @(
            @{ Name = 'on the same workers'; Options = @{} }
            @{ Name = 'with workers recycled between them'; Options = @{ MaxTasksPerWorker = 2 } }
        ) {
            $envPool = New-TestPool -Size 2 -Options $Options
            try {
                $env:PP_TEST_VAR = 'caller'
                $null = 1..4 | Invoke-PoolMap -Pool $envPool -ChunkSize 1 { $env:PP_TEST_LEAK = 'leaked'; Remove-Item env:PP_TEST_VAR }
                $seen = 1..4 | Invoke-PoolMap -Pool $envPool -ChunkSize 1 { "$env:PP_TEST_LEAK|$env:PP_TEST_VAR" }
                $seen | Should -Be '|caller', '|caller', '|caller', '|caller'
            }
            finally { Remove-TestPool $envPool }
        }

        It 'keeps what the pool''s initialization script set, on top of the caller''s environment' {
            $setupPool = New-TestPool -Size 1 -Options @{ InitializationScript = { $env:PP_TEST_LEAK = 'from setup' } }
            try {
                $env:PP_TEST_VAR = 'caller'
                $seen = 1..2 | Invoke-PoolMap -Pool $setupPool -ChunkSize 1 { "$env:PP_TEST_LEAK|$env:PP_TEST_VAR"; $env:PP_TEST_LEAK = 'changed by an item' }
                $seen | Should -Be 'from setup|caller', 'from setup|caller'
                1 | Invoke-PoolMap -Pool $setupPool { $env:PP_TEST_LEAK } | Should -Be 'from setup'
            }
            finally { Remove-TestPool $setupPool }
        }

        It 'does not carry the process''s current directory from one map to the next' {
            $before = 1..4 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { [Environment]::CurrentDirectory } | Sort-Object -Unique
            $elsewhere = [IO.Path]::GetTempPath()
            $null = 1..4 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { [IO.Directory]::SetCurrentDirectory($using:elsewhere) }
            1..4 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { [Environment]::CurrentDirectory } | Sort-Object -Unique | Should -Be $before
        }
    }

    Context 'Frame limit' {
        # A pool whose messages to workers hold at most 1 MiB (the real limit is 256 MiB), through a test-only knob.
        BeforeAll {
            $factory = [ProcessPool.Commands.ProcessPoolHandle].Assembly.GetType('ProcessPool.Commands.PoolFactory')
            $knob = $factory.GetProperty('MaxFrameBytesOverride', [Reflection.BindingFlags]'NonPublic, Static')
            $knob.SetValue($null, 1MB)
            try { $script:smallPool = New-TestPool -Size 1 }
            finally { $knob.SetValue($null, $null) }

            $script:big = 'x' * 1.5MB
        }
        AfterAll { Remove-TestPool $smallPool }

        It 'refuses a $using: value over the limit with PoolMapDefinitionFailed before anything is sent' {
            $started = $smallPool.WorkersStarted
            { 1 | Invoke-PoolMap -Pool $smallPool { $using:big.Length } } | Should -Throw -ErrorId 'PoolMapDefinitionFailed,ProcessPool.Commands.InvokePoolMapCommand'
            { 1 | Invoke-PoolMap -Pool $smallPool -AsJob { $using:big.Length } } | Should -Throw -ErrorId 'PoolMapDefinitionFailed,ProcessPool.Commands.InvokePoolMapCommand'
            $smallPool.WorkersLost | Should -Be 0
            $smallPool.WorkersStarted | Should -Be $started
        }

        It 'refuses -ArgumentList over the limit with PoolMapDefinitionFailed' {
            { 1 | Invoke-PoolMap -Pool $smallPool -ArgumentList $big { param($a) $a.Length } } | Should -Throw -ErrorId 'PoolMapDefinitionFailed,ProcessPool.Commands.InvokePoolMapCommand'
            $smallPool.WorkersLost | Should -Be 0
        }

        It 'fails only an item over the limit, with ItemNotSerializable, and runs the rest' {
            $started = $smallPool.WorkersStarted
            $out = 'a', $big, 'c' | Invoke-PoolMap -Pool $smallPool { $_.Length } -ErrorVariable failures -ErrorAction SilentlyContinue
            $out | Should -Be 1, 1
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotSerializable,*'
            $failures[0].TargetObject.Length | Should -Be $big.Length
            $smallPool.WorkersLost | Should -Be 0
            $smallPool.WorkersStarted | Should -Be $started
        }

        It 'fails only an item whose result is over the limit, with PoolWorkerTerminated, and runs the rest' {
            $out = 1, 2, 3 | Invoke-PoolMap -Pool $smallPool -ChunkSize 1 { if ($_ -eq 2) { 'x' * 1.5MB } else { $_ } } -ErrorVariable failures -ErrorAction SilentlyContinue
            $out | Should -Be 1, 3
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'PoolWorkerTerminated,*'
            $failures[0].TargetObject | Should -Be 2
        }
    }

    Context 'Processes an item starts' {
        # Each test starts processes meant to outlive their item, ends its map or pool or caller in one way, and
        # expects every such process to end with the worker that started it. Whatever still runs is killed after.

        It 'ends them when a worker is recycled after MaxTasksPerWorker items' -Skip:$IsWindows {
            $recycled = New-TestPool -Size 1 -Options @{ MaxTasksPerWorker = 1 }
            $sleepers = @()
            try {
                $sleepers = Get-ProcessIdentity (1 | Invoke-PoolMap -Pool $recycled -ArgumentList $SpawnSleepers { param($spawn) & ([scriptblock]::Create($spawn)) })
                $sleepers.Count | Should -Be 2
                Wait-ProcessEnded $sleepers | Should -BeNullOrEmpty
                2 | Invoke-PoolMap -Pool $recycled { $_ } | Should -Be 2
            }
            finally {
                Stop-TestProcess $sleepers
                Remove-TestPool $recycled
            }
        }

        It 'ends them when the item ends its own worker with <Name>' -Skip:$IsWindows -TestCases @(
            @{ Name = '[Environment]::Exit'; Crash = '[Environment]::Exit(1)' }
            @{ Name = 'SIGKILL'; Crash = 'Stop-Process -Id $PID -Force; Start-Sleep 60' }
        ) {
            $crashPool = New-TestPool -Size 1
            $file = Join-Path $TestDrive "crash-$([guid]::NewGuid().ToString('N')).txt"
            $sleepers = @()
            try {
                # The crashing item runs several times before it is blamed (twice for an exit code; a SIGKILL looks like
                # one from outside and is blamed only at the MaxKillsPerItem-th lone run); each run starts two.
                $null = 1 | Invoke-PoolMap -Pool $crashPool -ArgumentList $SpawnSleepers, $Crash {
                    param($spawn, $crash)
                    Add-Content -LiteralPath $using:file -Value (& ([scriptblock]::Create($spawn)))
                    & ([scriptblock]::Create($crash))
                } -ErrorVariable failures -ErrorAction SilentlyContinue
                $failures[0].FullyQualifiedErrorId | Should -BeLike 'PoolWorkerTerminated,*'
                $ids = @(Get-Content $file)
                $ids.Count | Should -BeGreaterOrEqual 4
                $ids.Count % 2 | Should -Be 0
                # Those already ended have no identity to take; pids are handed out in sequence, so none is reused this soon.
                $sleepers = @(Get-ProcessIdentity $ids -IgnoreEnded)
                Wait-ProcessEnded $sleepers | Should -BeNullOrEmpty
            }
            finally {
                Stop-TestProcess $sleepers
                Remove-TestPool $crashPool
            }
        }

        It 'ends them and the workers when the calling session <Name>' -Skip:$IsWindows -TestCases @(
            @{ Name = 'exits'; Ending = 'exit' }
            @{ Name = 'is killed with SIGKILL'; Ending = 'SIGKILL' }
            @{ Name = 'is stopped with SIGTERM'; Ending = 'SIGTERM' }
        ) {
            $dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
            $null = New-Item -ItemType Directory -Path $dir
            $caller = {
                param($module, $dir, $spawn, $ending)
                Import-Module $module
                $pool = New-ProcessPool -Size 1
                $job = 1 | Invoke-PoolMap -Pool $pool -AsJob -ArgumentList $spawn {
                    param($spawn)
                    $sleepers = & ([scriptblock]::Create($spawn))
                    Set-Content -LiteralPath (Join-Path $using:dir 'sleepers.txt') -Value $sleepers
                    Wait-Process -Id $sleepers[0] # busy with a child of its own, like { /bin/sleep 48 }
                }
                while (-not (Test-Path (Join-Path $dir 'sleepers.txt'))) { Start-Sleep -Milliseconds 50 }
                Set-Content -LiteralPath (Join-Path $dir 'caller.txt') -Value (@($PID) + $pool.GetAllStartedProcessIds())
                if ($ending -eq 'exit') { exit 0 }
                Start-Sleep 600
            }
            $session = Start-ChildSession $caller.ToString() @((Get-Module ProcessPool).Path, $dir, $SpawnSleepers, $Ending) (Join-Path $dir 'out.txt')
            $sleepers = @(); $others = @()
            try {
                Wait-Until { (Test-Path (Join-Path $dir 'caller.txt')) -and @(Get-Content (Join-Path $dir 'caller.txt')).Count -ge 2 } -TimeoutSeconds 90 |
                    Should -BeTrue -Because (Get-Content -Raw -ErrorAction SilentlyContinue (Join-Path $dir 'out.txt.err'))
                $sleepers = Get-ProcessIdentity (Get-Content (Join-Path $dir 'sleepers.txt'))
                $ids = @(Get-Content (Join-Path $dir 'caller.txt'))
                $others = @(Get-ProcessIdentity $ids -IgnoreEnded)
                switch ($Ending) {
                    'SIGKILL' { kill -KILL $ids[0] }
                    'SIGTERM' { kill -TERM $ids[0] }
                }
                Wait-ProcessEnded $others[0] -TimeoutSeconds 30 | Should -BeNullOrEmpty -Because 'the calling session ended'
                Wait-ProcessEnded $sleepers | Should -BeNullOrEmpty
                Wait-ProcessEnded ($others | Select-Object -Skip 1) | Should -BeNullOrEmpty -Because 'workers exit when their caller is gone'
            }
            finally {
                Stop-TestProcess ($sleepers + $others)
                if (-not $session.HasExited) { Stop-Process -Id $session.Id -Force -ErrorAction SilentlyContinue }
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
