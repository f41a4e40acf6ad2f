/*
 * Copyright 2026-present the original author or authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *      https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

package dev.latchkey.interceptor

import java.time.Duration

import dev.latchkey.LeaseMode
import dev.latchkey.LockLostException
import dev.latchkey.LockRepository
import dev.latchkey.LockTemplate
import dev.latchkey.ReactiveLockContext
import dev.latchkey.annotation.Exclusive
import dev.latchkey.annotation.Semaphore
import dev.latchkey.annotation.Shared
import dev.latchkey.autoconfigure.LatchkeyAutoConfiguration
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.reactor.ReactorContext
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.assertj.core.api.Assertions.assertThat
import org.assertj.core.api.Assertions.assertThatExceptionOfType
import org.awaitility.Awaitility.await
import org.junit.jupiter.api.Test
import org.springframework.boot.autoconfigure.AutoConfigurations
import org.springframework.boot.test.context.runner.ApplicationContextRunner
import org.springframework.context.annotation.Bean
import org.springframework.context.annotation.Configuration
import kotlin.coroutines.coroutineContext

/**
 * Kotlin `suspend` functions and `Flow` results under `@Exclusive`, `@Shared` and
 * `@Semaphore`: the lease is held until the coroutine completes (across its suspensions), and given back
 * when it completes, fails or is cancelled. Another caller, without the coroutine's
 * context, finds the key held meanwhile, and the repository shows the holder.
 */
class KotlinLockTests {

	private val contextRunner = ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration::class.java))
		.withPropertyValues("latchkey.backend=memory")
		.withUserConfiguration(ServicesConfiguration::class.java)

	@Test
	fun suspendFunctionHoldsTheLeaseAcrossDelayAndReleasesOnCompletion() {
		contextRunner.run { context ->
			val reports = context.getBean(Reports::class.java)
			val repository = context.getBean(LockRepository::class.java)
			val locks = context.getBean(LockTemplate::class.java)
			runBlocking {
				val build = async(Dispatchers.Default) { reports.build("1") }
				reports.entered.await()
				// The coroutine is suspended in delay(): the lease is still held.
				val holder = repository.inspect("report:1").orElseThrow().holders().single()
				assertThat(locks.exclusive("report:1").tryAcquire()).isEmpty
				val token = withTimeout(5000) { build.await() }
				// After the delay, the coroutine still runs under the lease the repository showed.
				assertThat(token).isEqualTo(holder.fencingToken())
			}
			assertThat(repository.inspect("report:1")).isEmpty
			locks.exclusive("report:1").tryAcquire().orElseThrow().use { }
		}
	}

	@Test
	fun cancellingTheCoroutineReleasesTheLease() {
		contextRunner.run { context ->
			val reports = context.getBean(Reports::class.java)
			val repository = context.getBean(LockRepository::class.java)
			runBlocking {
				val job = launch(Dispatchers.Default) { reports.hang("2") }
				reports.entered.await()
				assertThat(repository.inspect("report:2")).isPresent
				job.cancelAndJoin()
			}
			await().atMost(Duration.ofSeconds(5)).until { repository.inspect("report:2").isEmpty }
		}
	}

	@Test
	fun failingSuspendFunctionReleasesTheLease() {
		contextRunner.run { context ->
			val reports = context.getBean(Reports::class.java)
			val repository = context.getBean(LockRepository::class.java)
			assertThatExceptionOfType(IllegalStateException::class.java)
				.isThrownBy { runBlocking { reports.fail("3") } }
				.withMessage("report 3 failed")
			assertThat(repository.inspect("report:3")).isEmpty
		}
	}

	@Test
	fun secondCallerOfASuspendFunctionIsRefusedWhileTheFirstHolds() {
		contextRunner.run { context ->
			val reports = context.getBean(Reports::class.java)
			runBlocking {
				val job = launch(Dispatchers.Default) { reports.hang("4") }
				reports.entered.await()
				assertThatExceptionOfType(dev.latchkey.LockNotAcquiredException::class.java)
					.isThrownBy { runBlocking { reports.build("4") } }
				job.cancelAndJoin()
			}
		}
	}

	@Test
	fun nestedSuspendFunctionOnTheSameKeyReenters() {
		contextRunner.run { context ->
			val reports = context.getBean(Reports::class.java)
			val tokens = runBlocking { reports.rebuild("5") }
			// One lease: the inner call re-entered it (the wait time is zero, so a
			// second acquisition would have failed).
			assertThat(tokens.second).isEqualTo(tokens.first)
		}
	}

	@Test
	fun flowHoldsTheLeaseUntilItCompletes() {
		contextRunner.run { context ->
			val feeds = context.getBean(Feeds::class.java)
			val repository = context.getBean(LockRepository::class.java)
			val held = runBlocking {
				val flow = feeds.feed("6")
				// Nothing is taken until the flow is collected.
				assertThat(repository.inspect("feed:6")).isEmpty
				flow.toList()
			}
			// Each element was emitted under the lease (the repository saw it held).
			assertThat(held).containsExactly(true, true, true)
			assertThat(repository.inspect("feed:6")).isEmpty
		}
	}

	@Test
	fun suspendFunctionReturningAFlowHoldsTheLeaseUntilTheFlowCompletes() {
		contextRunner.run { context ->
			val feeds = context.getBean(Feeds::class.java)
			val repository = context.getBean(LockRepository::class.java)
			val held = runBlocking { feeds.feedLater("7").toList() }
			assertThat(held).containsExactly(true, true, true)
			assertThat(repository.inspect("feed:7")).isEmpty
		}
	}

	@Test
	fun lostLeaseCancelsTheCoroutineWithLockLostException() {
		ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(LatchkeyAutoConfiguration::class.java))
			.withUserConfiguration(LockLostPolicyTests.LosingConfiguration::class.java, ServicesConfiguration::class.java)
			.withPropertyValues("latchkey.ttl=3s", "latchkey.renew-interval=100ms")
			.run { context ->
				val reports = context.getBean(Reports::class.java)
				val repository = context.getBean(LockLostPolicyTests.StealingLockRepository::class.java)
				assertThatExceptionOfType(LockLostException::class.java).isThrownBy {
					runBlocking {
						val hanging = async(Dispatchers.Default) { reports.hang("8") }
						reports.entered.await()
						repository.stealAll = true
						withTimeout(5000) { hanging.await() }
					}
				}
			}
	}

	@Test
	fun semaphoreSuspendFunctionHoldsItsPermit() {
		contextRunner.run { context ->
			val feeds = context.getBean(Feeds::class.java)
			val locks = context.getBean(LockTemplate::class.java)
			runBlocking {
				val first = launch(Dispatchers.Default) { feeds.slot() }
				feeds.entered.await()
				assertThat(locks.semaphore("slots", 1).tryAcquire()).isEmpty
				first.cancelAndJoin()
			}
			await().atMost(Duration.ofSeconds(5))
				.until { locks.semaphore("slots", 1).tryAcquire().map { it.close(); true }.orElse(false) }
		}
	}

	@Test
	fun sharedSuspendFunctionsReadTogetherWhileAWriterIsRefused() {
		contextRunner.run { context ->
			val documents = context.getBean(Documents::class.java)
			val locks = context.getBean(LockTemplate::class.java)
			val repository = context.getBean(LockRepository::class.java)
			runBlocking {
				val first = launch(Dispatchers.Default) { documents.read("d1") }
				val second = launch(Dispatchers.Default) { documents.read("d1") }
				documents.readers.await()
				assertThat(repository.inspect("doc:d1")).hasValueSatisfying { info ->
					assertThat(info.mode()).isEqualTo(LeaseMode.SHARED)
					assertThat(info.holders()).hasSize(2)
				}
				assertThat(locks.exclusive("doc:d1").tryAcquire()).isEmpty
				first.cancelAndJoin()
				second.cancelAndJoin()
			}
			await().atMost(Duration.ofSeconds(5))
				.until { locks.exclusive("doc:d1").tryAcquire().map { it.close(); true }.orElse(false) }
		}
	}

	@Configuration(proxyBeanMethods = false)
	open class ServicesConfiguration {

		@Bean
		open fun documents() = Documents()


		@Bean
		open fun ledger() = Ledger()

		@Bean
		open fun reports(ledger: Ledger) = Reports(ledger)

		@Bean
		open fun feeds(repository: LockRepository) = Feeds(repository)

	}

	open class Documents {

		private val reading = java.util.concurrent.atomic.AtomicInteger()

		open val readers = CompletableDeferred<Unit>()

		@Shared("doc:#id")
		open suspend fun read(id: String) {
			if (reading.incrementAndGet() == 2) {
				readers.complete(Unit)
			}
			awaitCancellation()
		}

	}

	open class Ledger {

		@Exclusive("report:#id")
		open suspend fun token(id: String): Long = currentToken()

	}

	open class Reports(private val ledger: Ledger) {

		open val entered = CompletableDeferred<Unit>()

		@Exclusive("report:#id")
		open suspend fun build(id: String): Long {
			entered.complete(Unit)
			delay(500)
			return currentToken()
		}

		@Exclusive("report:#id")
		open suspend fun hang(id: String) {
			entered.complete(Unit)
			awaitCancellation()
		}

		@Exclusive("report:#id")
		open suspend fun fail(id: String): String {
			delay(10)
			throw IllegalStateException("report $id failed")
		}

		@Exclusive("report:#id")
		open suspend fun rebuild(id: String): Pair<Long, Long> {
			val outer = currentToken()
			delay(10)
			return outer to ledger.token(id)
		}

	}

	open class Feeds(private val repository: LockRepository) {

		open val entered = CompletableDeferred<Unit>()

		@Exclusive("feed:#id")
		open fun feed(id: String): Flow<Boolean> = flow {
			for (i in 1..3) {
				delay(20)
				emit(repository.inspect("feed:$id").isPresent)
			}
		}

		@Exclusive("feed:#id")
		open suspend fun feedLater(id: String): Flow<Boolean> {
			delay(10)
			return feed(id)
		}

		@Semaphore(key = "slots", permits = 1)
		open suspend fun slot() {
			entered.complete(Unit)
			awaitCancellation()
		}

	}

}

/** The fencing token of the innermost lease the coroutine holds. */
private suspend fun currentToken(): Long {
	val reactorContext = checkNotNull(coroutineContext[ReactorContext]) { "No Reactor context" }
	return ReactiveLockContext.current(reactorContext.context).orElseThrow().fencingToken()
}
